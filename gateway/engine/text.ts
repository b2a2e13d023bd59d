/**
 * The sentences officers read and the speakers say: Chinese first, English second.
 * Every alert explains itself in words with the figures that proved it.
 */
import type { Describe, Texts } from './alert-slot.ts';
import type { Level, TransitionType } from './types.ts';

export const LEVEL_ZH: Record<Level, string> = { info: '提示', blue: '蓝色', yellow: '黄色', orange: '橙色', red: '红色' };

const STAGE_ZH: Record<string, string> = { attention: '关注水位', warning: '警戒水位', guaranteed: '保证水位', historical_max: '历史最高水位' };
const STAGE_EN: Record<string, string> = { attention: 'attention stage', warning: 'warning stage', guaranteed: 'guaranteed stage', historical_max: 'historical maximum' };

const SMOKE_FAULT_ZH: Record<string, string> = { dirty: '探测室脏污', removed: '探测器被拆除', low_battery: '电池电量低', tamper: '防拆开关动作' };
const SMOKE_FAULT_EN: Record<string, string> = { dirty: 'dirty chamber', removed: 'detector removed', low_battery: 'low battery', tamper: 'tamper switch' };

/** A sensor's or zone's name in both languages. */
export interface Names {
  zh: string;
  en: string;
}

const num = (v: number | string | undefined, digits: number): string => (typeof v === 'number' ? v.toFixed(digits) : String(v ?? '?'));

/** Wraps a sentence pair with what happened to the alert (cleared, lowered, acknowledged). */
function frame(t: TransitionType, level: Level, body: Texts, what: Texts): Texts {
  switch (t) {
    case 'cleared':
      return { zh: `${what.zh}${LEVEL_ZH[level]}预警解除:${body.zh}`, en: `${what.en} ${level} alert cleared: ${body.en}` };
    case 'deescalated':
      return { zh: `${what.zh}预警降为${LEVEL_ZH[level]}:${body.zh}`, en: `${what.en} alert lowered to ${level}: ${body.en}` };
    case 'acknowledged':
      return { zh: `${LEVEL_ZH[level]}预警已确认:${body.zh}`, en: `${level} alert acknowledged: ${body.en}` };
    default:
      return body;
  }
}

export function rainText(name: Names): Describe {
  return ({ level, rule, values }, t) => {
    const h = Number(/(\d+)h/.exec(rule)?.[1] ?? 3);
    const mm = num(values[`rain_${h}h_mm`], 1);
    const body = t === 'cleared'
      ? { zh: `${name.zh} ${h} 小时降雨量 ${mm} 毫米`, en: `${mm} mm of rain in ${h} h at ${name.en}` }
      : { zh: `${name.zh} ${h} 小时降雨量 ${mm} 毫米,达到暴雨${LEVEL_ZH[level]}预警标准`, en: `${mm} mm of rain in ${h} h at ${name.en}: ${level} rainstorm level` };
    return frame(t, level, body, { zh: '暴雨', en: 'Rainstorm' });
  };
}

export function stageText(name: Names): Describe {
  return ({ level, rule, values }, t) => {
    const stage = rule.replace(/^stage_/, '');
    const m = num(values.water_level_m, 2);
    const limit = num(values[`${stage}_m`], 2);
    const body = t === 'cleared'
      ? { zh: `${name.zh} 水位 ${m} 米,已回落到${STAGE_ZH[stage] ?? stage} ${limit} 米以下`, en: `water level at ${name.en} ${m} m, back below the ${STAGE_EN[stage] ?? stage} ${limit} m` }
      : { zh: `${name.zh} 水位 ${m} 米,超过${STAGE_ZH[stage] ?? stage} ${limit} 米`, en: `water level at ${name.en} ${m} m, above the ${STAGE_EN[stage] ?? stage} ${limit} m` };
    return frame(t, level, body, { zh: '水位', en: 'Water level' });
  };
}

export function riseText(name: Names): Describe {
  return ({ level, values }, t) => {
    const rise = num(values.rise_m, 2);
    const min = num(values.rise_window_min, 0);
    const body = { zh: `${name.zh} 水位 ${min} 分钟上涨 ${rise} 米`, en: `water at ${name.en} rose ${rise} m in ${min} min` };
    if (t === 'raised' || t === 'escalated') {
      body.zh += `,涨速达到${LEVEL_ZH[level]}预警标准`;
      body.en += `: ${level} rate-of-rise level`;
    }
    return frame(t, level, body, { zh: '水位上涨', en: 'Rate-of-rise' });
  };
}

export function fireText(zone: Names): Describe {
  return ({ level, values }, t) => {
    const who = String(values.detectors ?? '');
    const confirmed = level === 'red';
    let body: Texts;
    if (t === 'cleared') body = { zh: `${zone.zh} 烟感(${who})已恢复正常`, en: `smoke detectors in ${zone.en} (${who}) back to normal` };
    else if (confirmed) body = { zh: `${zone.zh} 火警已确认(${who}),请立即疏散`, en: `fire confirmed in ${zone.en} (${who}): evacuate now` };
    else body = { zh: `${zone.zh} 烟感 ${who} 报警,尚未确认,请立即派人查看`, en: `smoke detector ${who} in ${zone.en} alarms, not yet confirmed: send someone to check` };
    return frame(t, level, body, { zh: '火警', en: 'Fire' });
  };
}

/** Sensor faults: stale, out of range, stuck, failing reads, smoke detector faults. */
export function faultText(name: Names): Describe {
  return ({ rule, values }, t) => {
    let body: Texts;
    switch (rule) {
      case 'stale': {
        const min = num(values.silent_min, 0);
        body = { zh: `传感器 ${name.zh} 已 ${min} 分钟无数据`, en: `sensor ${name.en} has sent no data for ${min} min` };
        break;
      }
      case 'out_of_range':
        body = { zh: `传感器 ${name.zh} 读数 ${values.value} 超出量程 [${values.min}, ${values.max}]`, en: `sensor ${name.en} reads ${values.value}, outside its range [${values.min}, ${values.max}]` };
        break;
      case 'stuck': {
        const h = num(values.unchanged_h, 1);
        body = { zh: `传感器 ${name.zh} 读数 ${h} 小时未变化(${values.value}),可能卡死`, en: `sensor ${name.en} has read ${values.value} for ${h} h: stuck?` };
        break;
      }
      case 'error_rate':
        body = { zh: `传感器 ${name.zh} 最近 ${values.window} 次读取有 ${values.errors} 次失败`, en: `sensor ${name.en} failed ${values.errors} of its last ${values.window} reads` };
        break;
      default: {
        const f = rule.replace(/^smoke_/, '');
        body = { zh: `烟感 ${name.zh} 故障:${SMOKE_FAULT_ZH[f] ?? f}`, en: `smoke detector ${name.en} fault: ${SMOKE_FAULT_EN[f] ?? f}` };
      }
    }
    if (t === 'cleared') return { zh: `故障已恢复:${body.zh}`, en: `Fault cleared: ${body.en}` };
    if (t === 'acknowledged') return { zh: `故障已确认:${body.zh}`, en: `Fault acknowledged: ${body.en}` };
    return { zh: `故障:${body.zh}`, en: `Fault: ${body.en}` };
  };
}
