/**
 * The sentences officers read and the speakers say to the public: Chinese first, English second.
 * Every alert explains itself with the figures that proved it, and everything a sentence names
 * (window, stage, fault, what the rule warns of) comes from the transition's facts, never from
 * the rule's name: a site names its rules as it likes.
 */
import type { Describe, Shown, Texts } from './alert-slot.ts';
import type { Label, Level, TransitionType } from './types.ts';

export const LEVEL_ZH: Record<Level, string> = { info: '提示', blue: '蓝色', yellow: '黄色', orange: '橙色', red: '红色' };

const STAGE_ZH: Record<string, string> = { attention: '关注水位', warning: '警戒水位', guaranteed: '保证水位', historical_max: '历史最高水位' };
const STAGE_EN: Record<string, string> = { attention: 'attention stage', warning: 'warning stage', guaranteed: 'guaranteed stage', historical_max: 'historical maximum' };

const SMOKE_STATE_ZH: Record<string, string> = { normal: '正常', alarm: '报警', dirty: '探测室脏污', removed: '探测器被拆除', low_battery: '电池电量低', tamper: '防拆开关动作' };
const SMOKE_STATE_EN: Record<string, string> = { normal: 'normal', alarm: 'alarm', dirty: 'dirty chamber', removed: 'detector removed', low_battery: 'low battery', tamper: 'tamper switch' };

/** A sensor's or zone's name in both languages. */
export type Names = Label;

const num = (v: number | string | undefined, digits: number): string => (typeof v === 'number' ? v.toFixed(digits) : String(v ?? '?'));
const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** A duration said the way a person would: seconds under two minutes, minutes under two hours, then hours. */
export function duration(seconds: number | string | undefined): Texts {
  const s = typeof seconds === 'number' ? Math.max(0, Math.floor(seconds)) : Number.NaN;
  if (!Number.isFinite(s)) return { zh: '?', en: '?' };
  if (s < 120) return { zh: `${s} 秒`, en: `${s} s` };
  if (s < 7200) return { zh: `${Math.floor(s / 60)} 分钟`, en: `${Math.floor(s / 60)} min` };
  const h = (s / 3600).toFixed(1);
  return { zh: `${h} 小时`, en: `${h} h` };
}

/** Wraps a sentence pair with what happened to the alert (cleared, lowered, acknowledged). */
function frame(t: TransitionType, level: Level, body: Texts, what: Texts): Texts {
  switch (t) {
    case 'cleared':
      return { zh: `${what.zh}${LEVEL_ZH[level]}预警解除:${body.zh}`, en: `${capital(what.en)} ${level} alert cleared: ${body.en}` };
    case 'deescalated':
      return { zh: `${what.zh}预警降为${LEVEL_ZH[level]}:${body.zh}`, en: `${capital(what.en)} alert lowered to ${level}: ${body.en}` };
    case 'acknowledged':
      return { zh: `${LEVEL_ZH[level]}预警已确认:${body.zh}`, en: `${level} alert acknowledged: ${body.en}` };
    default:
      return body;
  }
}

const RAIN: Label = { zh: '降雨', en: 'rain' };

export function rainText(name: Names): Describe {
  return ({ level, values, facts }, t) => {
    // Every rain rule has a window; the 24 h sum is the one figure true of any rule if one ever had none.
    const h = facts.windowH ?? 24;
    const label = facts.label ?? RAIN;
    const mm = num(values[`rain_${h}h_mm`], 1);
    const body = t === 'cleared'
      ? { zh: `${name.zh} ${h} 小时降雨量 ${mm} 毫米,已低于${label.zh}预警标准`, en: `${mm} mm of rain in ${h} h at ${name.en}, below the ${label.en} alert level` }
      : { zh: `${name.zh} ${h} 小时降雨量 ${mm} 毫米,达到${label.zh}${LEVEL_ZH[level]}预警标准`, en: `${mm} mm of rain in ${h} h at ${name.en}: ${level} ${label.en} level` };
    // Lowered, the alert may now stand on a rule of another kind (a site's own after a CMA signal).
    return frame(t, level, body, t === 'deescalated' ? RAIN : label);
  };
}

/**
 * Stage alerts. `lowest` is the lowest configured stage: a cleared alert is below it. A level
 * held inside its hysteresis band (`bandM` below the stage) is said to be so, not "above".
 */
export function stageText(name: Names, lowest: string, bandM: number): Describe {
  return ({ level, values, facts }, t) => {
    const stage = t === 'cleared' ? lowest : (facts.stage ?? lowest);
    const [zh, en] = [STAGE_ZH[stage] ?? stage, STAGE_EN[stage] ?? stage];
    const m = num(values.water_level_m, 2);
    const limit = num(values[`${stage}_m`], 2);
    let body: Texts;
    if (t === 'cleared') body = { zh: `${name.zh} 水位 ${m} 米,已回落到${zh} ${limit} 米以下`, en: `water level at ${name.en} ${m} m, back below the ${en} ${limit} m` };
    else if (Number(values.water_level_m) >= Number(values[`${stage}_m`])) body = { zh: `${name.zh} 水位 ${m} 米,超过${zh} ${limit} 米`, en: `water level at ${name.en} ${m} m, above the ${en} ${limit} m` };
    else body = { zh: `${name.zh} 水位 ${m} 米,仍在${zh} ${limit} 米附近(回差 ${bandM} 米内)`, en: `water level at ${name.en} ${m} m, just below the ${en} ${limit} m (within its ${bandM} m band)` };
    return frame(t, level, body, { zh: '水位', en: 'water level' });
  };
}

export function riseText(name: Names): Describe {
  return ({ level, values }, t) => {
    const r = Number(values.rise_m);
    const min = num(values.rise_window_min, 0);
    // A rise alert clears when the water stops rising, often because it falls.
    const body = r < 0
      ? { zh: `${name.zh} 水位 ${min} 分钟下降 ${num(-r, 2)} 米`, en: `water at ${name.en} fell ${num(-r, 2)} m in ${min} min` }
      : { zh: `${name.zh} 水位 ${min} 分钟上涨 ${num(values.rise_m, 2)} 米`, en: `water at ${name.en} rose ${num(values.rise_m, 2)} m in ${min} min` };
    if (t === 'raised' || t === 'escalated') {
      body.zh += `,涨速达到${LEVEL_ZH[level]}预警标准`;
      body.en += `: ${level} rate-of-rise level`;
    }
    return frame(t, level, body, { zh: '水位上涨', en: 'rate-of-rise' });
  };
}

export function fireText(zone: Names): Describe {
  return ({ level, values }, t) => {
    const who = String(values.detectors ?? '');
    const confirmed = level === 'red';
    let body: Texts;
    // "No longer alarm", not "normal": a detector torn off its base (`removed`) stops alarming too,
    // and its fault is reported on its own.
    if (t === 'cleared') body = { zh: `${zone.zh} 烟感(${who})已停止报警`, en: `smoke detectors in ${zone.en} (${who}) no longer alarm` };
    else if (confirmed) body = { zh: `${zone.zh} 火警已确认(${who}),请立即疏散`, en: `fire confirmed in ${zone.en} (${who}): evacuate now` };
    else body = { zh: `${zone.zh} 烟感 ${who} 报警,尚未确认,请立即派人查看`, en: `smoke detector ${who} in ${zone.en} alarms, not yet confirmed: send someone to check` };
    return frame(t, level, body, { zh: '火警', en: 'fire' });
  };
}

/** What a fault is while it holds (raised, acknowledged), with the figures that proved it. */
function faultBody(name: Names, { values, facts }: Shown): Texts {
  switch (facts.fault) {
    case 'stale': {
      const d = duration(values.silent_s);
      return { zh: `传感器 ${name.zh} 已 ${d.zh}无数据`, en: `sensor ${name.en} has sent no data for ${d.en}` };
    }
    case 'out_of_range':
      return { zh: `传感器 ${name.zh} 读数 ${values.value} 超出量程 [${values.min}, ${values.max}]`, en: `sensor ${name.en} reads ${values.value}, outside its range [${values.min}, ${values.max}]` };
    case 'stuck': {
      const d = duration(values.unchanged_s);
      return { zh: `传感器 ${name.zh} 读数 ${d.zh}未变化(${values.value}),可能卡死`, en: `sensor ${name.en} has read ${values.value} for ${d.en}: stuck?` };
    }
    case 'error_rate': {
      const row = Number(values.failed_in_row ?? 0);
      const body = { zh: `传感器 ${name.zh} 最近 ${values.window} 次读取有 ${values.errors} 次失败`, en: `sensor ${name.en} failed ${values.errors} of its last ${values.window} reads` };
      if (row > 1) {
        body.zh += `,最近连续 ${row} 次失败`;
        body.en += `, the last ${row} in a row`;
      }
      return body;
    }
    case 'flapping': {
      const d = duration(values.window_s);
      return {
        zh: `传感器 ${name.zh} 故障状态反复变化(${d.zh}内 ${values.changes} 次),此后的变化只计数、不再逐条记录,请派人检查设备`,
        en: `sensor ${name.en} keeps changing its fault state (${values.changes} times in ${d.en}); further changes are counted, not logged one by one: have the device checked`,
      };
    }
    default: {
      const f = facts.fault ?? String(values.state);
      return { zh: `烟感 ${name.zh} 故障:${SMOKE_STATE_ZH[f] ?? f}`, en: `smoke detector ${name.en} fault: ${SMOKE_STATE_EN[f] ?? f}` };
    }
  }
}

/** What cleared and how the sensor is now; the bad figure that raised the fault is history. */
function faultClearedBody(name: Names, { values, facts }: Shown): Texts {
  switch (facts.fault) {
    case 'stale': {
      const d = duration(values.silent_s);
      return { zh: `传感器 ${name.zh} 恢复数据(此前 ${d.zh}无数据)`, en: `sensor ${name.en} sends data again after ${d.en} without` };
    }
    case 'out_of_range':
      return { zh: `传感器 ${name.zh} 读数 ${values.value} 已回到量程 [${values.min}, ${values.max}] 内`, en: `sensor ${name.en} reads ${values.value}, back within its range [${values.min}, ${values.max}]` };
    case 'stuck':
      return { zh: `传感器 ${name.zh} 读数已恢复变化(现为 ${values.value})`, en: `sensor ${name.en} reading changes again (now ${values.value})` };
    case 'error_rate':
      return { zh: `传感器 ${name.zh} 读取恢复正常(最近 ${values.window} 次中 ${values.errors} 次失败)`, en: `sensor ${name.en} reads succeed again (${values.errors} of its last ${values.window} failed)` };
    case 'flapping': {
      const [q, f] = [duration(values.quiet_s), duration(values.flapping_s)];
      return {
        zh: `传感器 ${name.zh} 故障状态已稳定(${q.zh}无变化);反复变化的 ${f.zh}内共变化 ${values.changes} 次`,
        en: `sensor ${name.en} fault state is steady again (no change for ${q.en}); it changed ${values.changes} times in the ${f.en} it flapped`,
      };
    }
    default: {
      const f = facts.fault ?? '';
      const now = String(values.state ?? '');
      return { zh: `烟感 ${name.zh} 故障(${SMOKE_STATE_ZH[f] ?? f})已排除,当前状态:${SMOKE_STATE_ZH[now] ?? now}`, en: `smoke detector ${name.en} fault (${SMOKE_STATE_EN[f] ?? f}) is gone, now: ${SMOKE_STATE_EN[now] ?? now}` };
    }
  }
}

/** Sensor faults: stale, out of range, stuck, failing reads, smoke detector faults, flapping. */
export function faultText(name: Names): Describe {
  return (shown, t) => {
    if (t === 'cleared') {
      const body = faultClearedBody(name, shown);
      return { zh: `故障已恢复:${body.zh}`, en: `Fault cleared: ${body.en}` };
    }
    const body = faultBody(name, shown);
    if (t === 'acknowledged') return { zh: `故障已确认:${body.zh}`, en: `Fault acknowledged: ${body.en}` };
    return { zh: `故障:${body.zh}`, en: `Fault: ${body.en}` };
  };
}
