/**
 * Every sentence the box says is broadcast to the public. This walks every rule kind through
 * every transition it can make, in both languages, and checks that the sentence names the
 * figures and the window (stage, fault) of the rule that fired — taken from the transition's
 * facts, never from the rule's name.
 */
import { describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../gateway/engine/types.ts';
import { EngineRig, MIN, T0, site } from '../helpers/site.ts';

const S = 1000;
const COLOUR_ZH: Record<string, string> = { blue: '蓝色', yellow: '黄色', orange: '橙色', red: '红色' };
const STAGE_ZH: Record<string, string> = { attention: '关注水位', warning: '警戒水位', guaranteed: '保证水位', historical_max: '历史最高水位' };
const STAGE_EN: Record<string, string> = { attention: 'attention stage', warning: 'warning stage', guaranteed: 'guaranteed stage', historical_max: 'historical maximum' };

/** What a transition's sentence must say it is (raised and escalated say the level reached). */
function checkFrame(t: AlertTransition): void {
  const [zh, en] = [t.textZh, t.textEn];
  if (t.transition === 'cleared') {
    expect(zh).toContain('解除');
    expect(en).toContain('alert cleared');
  } else if (t.transition === 'deescalated') {
    expect(zh).toContain(`预警降为${COLOUR_ZH[t.level]}`);
    expect(en).toContain(`lowered to ${t.level}`);
  } else if (t.transition === 'acknowledged') {
    expect(zh).toContain(`${COLOUR_ZH[t.level]}预警已确认`);
    expect(en).toContain(`${t.level} alert acknowledged`);
  }
  if (t.transition !== 'cleared') {
    expect(zh).toContain(`${COLOUR_ZH[t.level]}预警标准`);
    expect(en).toContain(`${t.level} `);
  } else {
    // The level being cleared is the one it says.
    expect(zh).toContain(`${COLOUR_ZH[t.level]}预警解除`);
  }
}

/** Rain: the window the rule sums over and its own figure, and no other window. */
function checkRain(t: AlertTransition, h: number, label: { zh: string; en: string }): void {
  const mm = (t.values[`rain_${h}h_mm`] as number).toFixed(1);
  expect(t.windowH).toBe(h);
  expect(t.textZh).toContain(`rg1 ${h} 小时降雨量 ${mm} 毫米`);
  expect(t.textEn).toContain(`${mm} mm of rain in ${h} h at rg1`);
  expect([...t.textZh.matchAll(/(\d+) 小时/g)].map((m) => Number(m[1]))).toEqual([h]);
  expect([...t.textEn.matchAll(/in (\d+) h/g)].map((m) => Number(m[1]))).toEqual([h]);
  expect(t.textZh).toContain(label.zh);
  expect(t.textEn.toLowerCase()).toContain(label.en);
  if (label.zh !== '暴雨') {
    expect(t.textZh).not.toContain('暴雨');
    expect(t.textEn).not.toContain('rainstorm');
  }
  checkFrame(t);
}

/** Feeds `mmPerMin` minute by minute, acknowledges the alert once raised, then stays dry for `dryMin`. */
function walkRain(yaml: string, mmPerMin: number[], dryMin: number): AlertTransition[] {
  const rig = new EngineRig(site(yaml));
  let total = 0;
  let minute = 0;
  rig.read('rg1', total, T0);
  for (const mm of mmPerMin) {
    total = Math.round((total + mm) * 1000) / 1000;
    rig.read('rg1', total, T0 + ++minute * MIN);
    const raised = rig.of('rg1/rain')[0];
    if (raised && rig.of('rg1/rain').length === 1) rig.ack(raised.alert, 'wang', T0 + minute * MIN + S);
  }
  for (let i = 0; i < dryMin; i++) rig.read('rg1', total, T0 + ++minute * MIN);
  return rig.of('rg1/rain');
}

const customSite = (h: number, names: [string, string]): string => `
site: { id: t, name: 测试村 }
sensors:
  - id: rg1
    kind: rain
    clear_after_s: 0
    rules: [{ name: ${names[0]}, window_h: ${h}, mm: 20, level: yellow }, { name: ${names[1]}, window_h: ${h}, mm: 40, level: orange }]
`;

describe('rain sentences: every window, CMA and custom rules, every transition', () => {
  for (const h of [1, 3, 6, 12, 24]) {
    it(`a site's own ${h} h rule names ${h} h, its figure and a fitting label (not a rainstorm signal)`, () => {
      const seq = walkRain(customSite(h, ['rain_1h', 'rain_3h']), Array(9).fill(5), h * 60 + 10);
      expect(seq.map((t) => `${t.transition}:${t.level}`)).toEqual(['raised:yellow', 'acknowledged:yellow', 'escalated:orange', 'deescalated:yellow', 'cleared:yellow']);
      const label = h <= 1 ? { zh: '短时强降水', en: 'short-duration heavy rain' } : { zh: '强降雨', en: 'heavy rain' };
      for (const t of seq) checkRain(t, h, label);
    });

    it(`a ${h} h rule renamed arbitrarily says the same sentences`, () => {
      const plain = walkRain(customSite(h, ['rain_1h', 'rain_3h']), Array(9).fill(5), h * 60 + 10);
      // Names that a parser of rule names would misread: another window, a stage, a smoke fault.
      const odd = walkRain(customSite(h, ['stage_warning_99h', 'smoke_dirty-2h']), Array(9).fill(5), h * 60 + 10);
      expect(odd.map((t) => t.rule)).toContain('stage_warning_99h');
      expect(odd.map((t) => [t.textZh, t.textEn])).toEqual(plain.map((t) => [t.textZh, t.textEn]));
    });
  }

  it('the CMA signals: 3 h orange and red, then 6 h yellow and 12 h blue as the rain leaves the windows', () => {
    const seq = walkRain(`
site: { id: t, name: 测试村 }
sensors:
  - { id: rg1, kind: rain, clear_after_s: 0 }
`, Array(60).fill(1.75), 13 * 60);
    expect(seq.map((t) => `${t.transition}:${t.level}:${t.windowH}`)).toEqual([
      'raised:orange:3',
      'acknowledged:orange:3',
      'escalated:red:3',
      'deescalated:orange:3',
      'deescalated:yellow:6',
      'deescalated:blue:12',
      'cleared:blue:12',
    ]);
    for (const t of seq) checkRain(t, t.windowH!, { zh: '暴雨', en: 'rainstorm' });
  });

  it('the issue’s flash-flood rule: 1 h, short-duration heavy rain, exactly', () => {
    const seq = walkRain(`
site: { id: t, name: 测试村 }
sensors:
  - { id: rg1, kind: rain, rules: [{ name: flash_flood, window_h: 1, mm: 30, level: orange }] }
`, [10, 10, 10.1], 0);
    expect(seq[0]!.textZh).toBe('rg1 1 小时降雨量 30.1 毫米,达到短时强降水橙色预警标准');
    expect(seq[0]!.textEn).toBe('30.1 mm of rain in 1 h at rg1: orange short-duration heavy rain level');
    expect(seq[0]!.label).toEqual({ zh: '短时强降水', en: 'short-duration heavy rain' });
  });

  it('a rule carries its own label into every sentence', () => {
    const seq = walkRain(`
site: { id: t, name: 测试村 }
sensors:
  - id: rg1
    kind: rain
    clear_after_s: 0
    rules: [{ name: r1, window_h: 1, mm: 30, level: orange, label: { zh: 山洪, en: flash flood } }]
`, [10, 10, 10.1], 70);
    expect(seq.map((t) => t.transition)).toEqual(['raised', 'acknowledged', 'cleared']);
    for (const t of seq) checkRain(t, 1, { zh: '山洪', en: 'flash flood' });
    expect(seq[2]!.textEn).toBe('Flash flood orange alert cleared: 20.1 mm of rain in 1 h at rg1, below the flash flood alert level');
  });
});

describe('water-level sentences: every stage and the rate of rise, every transition', () => {
  it('names the stage crossed, its height and the level now', () => {
    const rig = new EngineRig(site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, raise_after_s: 0, clear_after_s: 0, rise: [], stages: { attention: 1.0, warning: 2.0, guaranteed: 3.0, historical_max: 4.0 } }
`));
    const series = [1.1, 2.1, 3.1, 4.1, 3.5, 0.5];
    series.forEach((v, i) => {
      rig.read('wl1', v, T0 + i * MIN);
      if (i === 0) rig.ack(rig.of('wl1/stage')[0]!.alert, 'wang', T0 + S);
    });
    const seq = rig.of('wl1/stage');
    expect(seq.map((t) => `${t.transition}:${t.stage}`)).toEqual([
      'raised:attention',
      'acknowledged:attention',
      'escalated:warning',
      'escalated:guaranteed',
      'escalated:historical_max',
      'deescalated:guaranteed',
      'cleared:guaranteed',
    ]);
    for (const t of seq) {
      // Cleared is below every stage: it names the lowest one.
      const stage = t.transition === 'cleared' ? 'attention' : t.stage!;
      const m = (t.values.water_level_m as number).toFixed(2);
      const limit = (t.values[`${stage}_m`] as number).toFixed(2);
      expect(t.textZh).toContain(`wl1 水位 ${m} 米`);
      expect(t.textZh).toContain(`${STAGE_ZH[stage]} ${limit} 米`);
      expect(t.textEn).toContain(`water level at wl1 ${m} m`);
      expect(t.textEn).toContain(`${STAGE_EN[stage]} ${limit} m`);
      if (t.transition !== 'cleared') expect(t.textZh).toContain('超过');
      else expect(t.textZh).toContain('以下');
    }
  });

  it('a level held inside its hysteresis band is not said to be above the stage', () => {
    const rig = new EngineRig(site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, raise_after_s: 0, clear_after_s: 0, rise: [], hysteresis_m: 0.05, stages: { warning: 2.0, guaranteed: 3.0, historical_max: 4.0 } }
`));
    // Over the historical maximum, then straight down to just under the guaranteed stage: lowered to orange, held by the band.
    [4.1, 2.97].forEach((v, i) => rig.read('wl1', v, T0 + i * MIN));
    const seq = rig.of('wl1/stage');
    expect(seq.map((t) => `${t.transition}:${t.stage}`)).toEqual(['raised:historical_max', 'deescalated:guaranteed']);
    expect(seq[1]!.textZh).toBe('水位预警降为橙色:wl1 水位 2.97 米,仍在保证水位 3.00 米附近(回差 0.05 米内)');
    expect(seq[1]!.textEn).toBe('Water level alert lowered to orange: water level at wl1 2.97 m, just below the guaranteed stage 3.00 m (within its 0.05 m band)');
  });

  it('the rate of rise names its window and the rise', () => {
    const rig = new EngineRig(site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, raise_after_s: 0, clear_after_s: 0, stages: { historical_max: 90 }, rise: [{ m: 0.3, level: yellow }, { m: 0.5, level: orange }] }
`));
    let level = 1;
    const steps = [...Array(10).fill(0.04), ...Array(10).fill(0.06), ...Array(10).fill(0.04), ...Array(15).fill(0)];
    steps.forEach((d, i) => {
      level += d;
      rig.read('wl1', Math.round(level * 1000) / 1000, T0 + i * MIN);
      const r = rig.of('wl1/rise');
      if (r.length === 1) rig.ack(r[0]!.alert, 'wang', T0 + i * MIN + S);
    });
    const seq = rig.of('wl1/rise');
    expect(seq.map((t) => `${t.transition}:${t.level}`)).toEqual(['raised:yellow', 'acknowledged:yellow', 'escalated:orange', 'deescalated:yellow', 'cleared:yellow']);
    for (const t of seq) {
      const rise = (t.values.rise_m as number).toFixed(2);
      expect(t.textZh).toContain(`wl1 水位 10 分钟上涨 ${rise} 米`);
      expect(t.textEn).toContain(`water at wl1 rose ${rise} m in 10 min`);
      if (t.transition === 'raised' || t.transition === 'escalated') expect(t.textZh).toContain(`涨速达到${COLOUR_ZH[t.level]}预警标准`);
    }
    expect(seq.at(-1)!.textEn).toMatch(/^Rate-of-rise yellow alert cleared: /);
  });

  it('a rise alert cleared by falling water says it fell, not that it rose a negative amount', () => {
    const rig = new EngineRig(site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, raise_after_s: 0, clear_after_s: 300, stages: { historical_max: 90 }, rise: [{ m: 0.3, level: yellow }] }
`));
    let level = 1;
    [...Array(10).fill(0.04), ...Array(12).fill(-0.05)].forEach((d, i) => {
      level += d;
      rig.read('wl1', Math.round(level * 1000) / 1000, T0 + i * MIN);
    });
    const cleared = rig.of('wl1/rise').at(-1)!;
    expect(cleared.transition).toBe('cleared');
    expect(cleared.values.rise_m as number).toBeLessThan(0);
    expect(cleared.textZh).toMatch(/^水位上涨黄色预警解除:wl1 水位 10 分钟下降 \d\.\d\d 米$/);
    expect(cleared.textEn).toMatch(/^Rate-of-rise yellow alert cleared: water at wl1 fell \d\.\d\d m in 10 min$/);
  });
});

describe('smoke sentences: pre-alarm, confirmed, acknowledged, cleared', () => {
  it('says which detectors, whether confirmed, and what to do', () => {
    const rig = new EngineRig(site(`
site: { id: t, name: 测试村 }
zones: [{ id: b3, name: 3号楼, name_en: Building 3 }]
sensors:
  - { id: sm1, kind: smoke, zone: b3, name: 1号烟感, name_en: detector 1 }
`));
    rig.read('sm1', 1, T0);
    rig.ack(rig.of('b3/fire')[0]!.alert, 'wang', T0 + S);
    rig.read('sm1', 1, T0 + 10 * S);
    for (let s = 20; s <= 200; s += 10) rig.read('sm1', 0, T0 + s * S);
    const seq = rig.of('b3/fire');
    // A confirmed fire stays red while any detector alarms, and clears from red: never lowered.
    expect(seq.map((t) => `${t.transition}:${t.level}`)).toEqual(['raised:yellow', 'acknowledged:yellow', 'escalated:red', 'cleared:red']);
    expect(seq.map((t) => t.textZh)).toEqual([
      '3号楼 烟感 1号烟感 报警,尚未确认,请立即派人查看',
      '黄色预警已确认:3号楼 烟感 1号烟感 报警,尚未确认,请立即派人查看',
      '3号楼 火警已确认(1号烟感),请立即疏散',
      '火警红色预警解除:3号楼 烟感(1号烟感)已停止报警',
    ]);
    expect(seq.map((t) => t.textEn)).toEqual([
      'smoke detector 1号烟感 in Building 3 alarms, not yet confirmed: send someone to check',
      'yellow alert acknowledged: smoke detector 1号烟感 in Building 3 alarms, not yet confirmed: send someone to check',
      'fire confirmed in Building 3 (1号烟感): evacuate now',
      'Fire red alert cleared: smoke detectors in Building 3 (1号烟感) no longer alarm',
    ]);
  });

  it('a fire alarm that stops because its detector was torn off does not say "back to normal"', () => {
    const rig = new EngineRig(site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: sm1, kind: smoke, clear_after_s: 0 }
`));
    rig.read('sm1', 1, T0);
    rig.read('sm1', 3, T0 + 10 * S); // removed
    const cleared = rig.of('site/fire').at(-1)!;
    expect(cleared.transition).toBe('cleared');
    expect(cleared.textZh + cleared.textEn).not.toMatch(/正常|normal/);
    expect(rig.of('sm1/fault').map((t) => `${t.transition}:${t.fault}`)).toEqual(['raised:removed']);
  });
});

describe('fault sentences: every fault kind, raised, acknowledged and cleared', () => {
  const cfg = site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, min: 0, max: 10, stuck_s: 600, stages: { warning: 9 } }
  - { id: sm1, kind: smoke }
`);

  /** Raises a fault with `raise`, acknowledges it, clears it with `clear`; returns the three. */
  function walk(key: string, raise: (rig: EngineRig) => void, clear: (rig: EngineRig) => void): AlertTransition[] {
    const rig = new EngineRig(cfg);
    raise(rig);
    const raised = rig.of(key);
    expect(raised.map((t) => t.transition)).toEqual(['raised']);
    rig.ack(raised[0]!.alert, 'wang', raised[0]!.at + S);
    clear(rig);
    const seq = rig.of(key);
    expect(seq.map((t) => t.transition)).toEqual(['raised', 'acknowledged', 'cleared']);
    expect(seq.every((t) => t.kind === 'fault')).toBe(true);
    expect(seq.map((t) => t.textZh.split(':')[0])).toEqual(['故障', '故障已确认', '故障已恢复']);
    expect(seq.map((t) => t.textEn.split(':')[0])).toEqual(['Fault', 'Fault acknowledged', 'Fault cleared']);
    return seq;
  }

  it('stale: the real silence, in the unit a person would say', () => {
    const [raised, ack, cleared] = walk(
      'wl1/stale',
      (rig) => {
        rig.read('wl1', 1, T0);
        rig.tick(T0 + 301 * S);
      },
      (rig) => rig.read('wl1', 1.2, T0 + 400 * S),
    );
    expect(raised!.fault).toBe('stale');
    expect(raised!.textZh).toBe('故障:传感器 wl1 已 5 分钟无数据');
    expect(raised!.textEn).toBe('Fault: sensor wl1 has sent no data for 5 min');
    expect(ack!.textEn).toBe('Fault acknowledged: sensor wl1 has sent no data for 5 min');
    expect(cleared!.textZh).toBe('故障已恢复:传感器 wl1 恢复数据(此前 6 分钟无数据)');
    expect(cleared!.textEn).toBe('Fault cleared: sensor wl1 sends data again after 6 min without');
  });

  it('out of range: raised with the bad value, cleared with the value now', () => {
    const [raised, , cleared] = walk(
      'wl1/range',
      (rig) => rig.read('wl1', 250, T0),
      (rig) => rig.read('wl1', 3.2, T0 + 10 * S),
    );
    expect(raised!.fault).toBe('out_of_range');
    expect(raised!.textEn).toBe('Fault: sensor wl1 reads 250, outside its range [0, 10]');
    expect(cleared!.textZh).toBe('故障已恢复:传感器 wl1 读数 3.2 已回到量程 [0, 10] 内');
    expect(cleared!.textEn).toBe('Fault cleared: sensor wl1 reads 3.2, back within its range [0, 10]');
    expect(cleared!.textZh + cleared!.textEn).not.toContain('250');
  });

  it('stuck: how long unchanged, cleared with the new value', () => {
    const [raised, , cleared] = walk(
      'wl1/stuck',
      (rig) => {
        for (let m = 0; m <= 10; m++) rig.read('wl1', 2.5, T0 + m * MIN);
      },
      (rig) => rig.read('wl1', 2.6, T0 + 11 * MIN),
    );
    expect(raised!.fault).toBe('stuck');
    expect(raised!.textZh).toBe('故障:传感器 wl1 读数 10 分钟未变化(2.5),可能卡死');
    expect(raised!.textEn).toBe('Fault: sensor wl1 has read 2.5 for 10 min: stuck?');
    expect(cleared!.textEn).toBe('Fault cleared: sensor wl1 reading changes again (now 2.6)');
  });

  it('error rate: failed reads counted, cleared when reads succeed again', () => {
    const [raised, , cleared] = walk(
      'wl1/errors',
      (rig) => {
        for (let i = 1; i <= 3; i++) rig.fail('wl1', T0 + i * 10 * S);
      },
      (rig) => rig.read('wl1', 1, T0 + 40 * S),
    );
    expect(raised!.fault).toBe('error_rate');
    expect(raised!.textZh).toBe('故障:传感器 wl1 最近 3 次读取有 3 次失败,最近连续 3 次失败');
    expect(raised!.textEn).toBe('Fault: sensor wl1 failed 3 of its last 3 reads, the last 3 in a row');
    expect(cleared!.textEn).toBe('Fault cleared: sensor wl1 reads succeed again (3 of its last 4 failed)');
  });

  for (const [code, fault, zh, en] of [
    [2, 'dirty', '探测室脏污', 'dirty chamber'],
    [3, 'removed', '探测器被拆除', 'detector removed'],
    [4, 'low_battery', '电池电量低', 'low battery'],
    [5, 'tamper', '防拆开关动作', 'tamper switch'],
  ] as const) {
    it(`smoke detector ${fault}: the fault, then that it is gone and the state now`, () => {
      const [raised, ack, cleared] = walk(
        'sm1/fault',
        (rig) => rig.read('sm1', code, T0),
        (rig) => rig.read('sm1', 0, T0 + 30 * S),
      );
      expect(raised!.fault).toBe(fault);
      expect(raised!.textZh).toBe(`故障:烟感 sm1 故障:${zh}`);
      expect(raised!.textEn).toBe(`Fault: smoke detector sm1 fault: ${en}`);
      expect(ack!.textEn).toBe(`Fault acknowledged: smoke detector sm1 fault: ${en}`);
      expect(cleared!.textZh).toBe(`故障已恢复:烟感 sm1 故障(${zh})已排除,当前状态:正常`);
      expect(cleared!.textEn).toBe(`Fault cleared: smoke detector sm1 fault (${en}) is gone, now: normal`);
    });
  }
});
