/**
 * Rain per clock hour and rolling 1–24 h sums from the minute rollups (panel/rain-history.ts):
 * cumulative totals, wraps, resets, glitches, gaps and failed minutes, µm arithmetic, the
 * site's clock, and the same sums the engine holds for the same series.
 */
import { describe, expect, it } from 'vitest';
import { rainSums } from '../../gateway/engine/rain.ts';
import { LOOKBACK_MIN, rainPerMinute, rainWindows, rollingStepMin, type GaugeSpec, type MinuteTotal } from '../../gateway/panel/rain-history.ts';
import { EngineRig, MIN, site } from '../helpers/site.ts';

const G: GaugeSpec = { scale: 1, counterModulus: 0, maxRateMmPerMin: 50 };
/** 2026-07-20T08:00:00+08:00 as an epoch minute: an hour boundary on the site's clock. */
const M0 = Date.parse('2026-07-20T08:00:00+08:00') / MIN;
const OFF = 8 * 60;

/** Totals for minutes M0, M0+1, …, starting at `start`, adding `perMin[i]` in minute i+1. */
function series(start: number, perMin: number[], from = M0): MinuteTotal[] {
  const rows: MinuteTotal[] = [{ minute: from, last: start }];
  let t = start;
  perMin.forEach((mm, i) => {
    t = Math.round((t + mm) * 1e6) / 1e6;
    rows.push({ minute: from + i + 1, last: t });
  });
  return rows;
}
const total = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0) / 1000;

describe('rain per minute from cumulative totals', () => {
  it('the first total is a baseline; each step after it is that minute’s rain, in µm', () => {
    const m = rainPerMinute(series(1234.5, [0.2, 0, 0.4]), G);
    expect([...m]).toEqual([
      [M0 + 1, 200],
      [M0 + 3, 400],
    ]);
  });

  it('a thousand 0.1 mm minutes are exactly 100 mm: no drift', () => {
    expect(total(rainPerMinute(series(0, Array(1000).fill(0.1)), G))).toBe(100);
  });

  it('scale: raw counts times the scale, from rounded totals', () => {
    const m = rainPerMinute(series(100, [1, 1, 3]), { ...G, scale: 0.2 });
    expect([...m.values()]).toEqual([200, 200, 600]);
  });

  it('a wrap of a known modulus counts the wrapped step (the total was in its top half)', () => {
    const g = { ...G, scale: 0.2, counterModulus: 65536 };
    const rows: MinuteTotal[] = [
      { minute: M0, last: 65530 },
      { minute: M0 + 1, last: 65534 },
      { minute: M0 + 2, last: 2 },
      { minute: M0 + 3, last: 5 },
    ];
    expect([...rainPerMinute(rows, g)]).toEqual([
      [M0 + 1, 800],
      [M0 + 2, 800], // 65534 → 65536 → 2: 4 counts
      [M0 + 3, 600],
    ]);
  });

  it('a step backwards from the bottom half, or with no modulus, is a reset: what it counted since is rain', () => {
    const rows: MinuteTotal[] = [
      { minute: M0, last: 500 },
      { minute: M0 + 1, last: 3 },
      { minute: M0 + 2, last: 4 },
    ];
    expect([...rainPerMinute(rows, G)]).toEqual([
      [M0 + 1, 3000],
      [M0 + 2, 1000],
    ]);
    // Bottom half of a known modulus: a reset, not a wrap (a wrap would be 65,039 counts).
    expect([...rainPerMinute(rows, { ...G, counterModulus: 65536 })]).toEqual([
      [M0 + 1, 3000],
      [M0 + 2, 1000],
    ]);
  });

  it('a reset to a total above what could have fallen since is a glitch: no rain, the new baseline', () => {
    const rows: MinuteTotal[] = [
      { minute: M0, last: 500 },
      { minute: M0 + 1, last: 400 },
      { minute: M0 + 2, last: 400.5 },
    ];
    expect([...rainPerMinute(rows, G)]).toEqual([[M0 + 2, 500]]);
  });

  it('a jump faster than max_rate_mm_per_min (plus a tip) is a glitch; the rain after it counts from there', () => {
    const rows = series(10, [0.2, 9000, 0.2]);
    expect([...rainPerMinute(rows, G)]).toEqual([
      [M0 + 1, 200],
      [M0 + 3, 200],
    ]);
    // Exactly the rate plus one tip in one minute still passes.
    expect(total(rainPerMinute(series(0, [51]), G))).toBe(51);
    expect(total(rainPerMinute(series(0, [51.001]), G))).toBe(0);
  });

  it('a gap (no rows) spreads its rain evenly over its minutes, the remainder in the last; the allowance grows with the gap', () => {
    const rows: MinuteTotal[] = [
      { minute: M0, last: 0 },
      { minute: M0 + 10, last: 2.003 },
    ];
    const m = rainPerMinute(rows, G);
    expect(m.size).toBe(10);
    expect(m.get(M0 + 1)).toBe(200);
    expect(m.get(M0 + 10)).toBe(203);
    expect(total(m)).toBe(2.003);
    // 400 mm in 10 minutes passes a 50 mm/min gauge: it is 40 mm a minute.
    expect(total(rainPerMinute([{ minute: M0, last: 0 }, { minute: M0 + 10, last: 400 }], G))).toBe(400);
  });

  it('failed minutes (only errors: last null) are a gap, not zeros', () => {
    const rows: MinuteTotal[] = [
      { minute: M0, last: 7 },
      { minute: M0 + 1, last: null },
      { minute: M0 + 2, last: null },
      { minute: M0 + 3, last: 7.6 },
    ];
    expect([...rainPerMinute(rows, G)]).toEqual([
      [M0 + 1, 200],
      [M0 + 2, 200],
      [M0 + 3, 200],
    ]);
    expect(rainPerMinute([{ minute: M0, last: null }], G).size).toBe(0);
    expect(rainPerMinute([], G).size).toBe(0);
  });
});

describe('rain per clock hour and rolling sums', () => {
  it('every 10 minutes: 1/3/6/12/24 h windows ending at each point; hours on the site clock', () => {
    // 0.2 mm every minute for 3 h from 08:00 (+08:00).
    const per = rainPerMinute(series(0, Array(180).fill(0.2)), G);
    const { hourly, rolling } = rainWindows(per, { fromMinute: M0 + 1, throughMinute: M0 + 180, stepMin: 10, offsetMin: OFF });
    expect(hourly.map((h) => [new Date(h.at).toISOString(), h.mm])).toEqual([
      ['2026-07-20T00:00:00.000Z', 11.8], // 08:01–08:59 (08:00 was the baseline)
      ['2026-07-20T01:00:00.000Z', 12],
      ['2026-07-20T02:00:00.000Z', 12],
      ['2026-07-20T03:00:00.000Z', 0.2], // 11:00, the last minute shown
    ]);
    expect(rolling).toHaveLength(19); // 18 on the 10-minute grid, and 11:01 (the sums now)
    expect(new Date(rolling[0]!.at).toISOString()).toBe('2026-07-20T00:10:00.000Z');
    expect(rolling[0]).toMatchObject({ sum_1h_mm: 1.8, sum_3h_mm: 1.8, sum_24h_mm: 1.8 }); // minutes 08:01–08:09
    expect(rolling.at(-2)).toMatchObject({ at: (M0 + 180) * MIN, sum_1h_mm: 12, sum_3h_mm: 35.8, sum_6h_mm: 35.8, sum_24h_mm: 35.8 });
    expect(rolling.at(-1)).toMatchObject({ at: (M0 + 181) * MIN, sum_1h_mm: 12, sum_3h_mm: 36, sum_6h_mm: 36, sum_12h_mm: 36, sum_24h_mm: 36 });
  });

  it("a window ending at T holds the minutes [T − W, T): the minute at T − W in, T's own out", () => {
    const per = new Map([
      [M0 - 60, 1000],
      [M0, 5000],
    ]);
    const { rolling } = rainWindows(per, { fromMinute: M0 - 5, throughMinute: M0, stepMin: 10, offsetMin: OFF });
    const atM0 = rolling.find((r) => r.at === M0 * MIN)!;
    expect(atM0).toMatchObject({ sum_1h_mm: 1, sum_3h_mm: 1 });
    // The next grid point (M0 + 10) is after through + 1: the last point is the sums now.
    expect(rolling.map((r) => r.at)).toEqual([M0 * MIN, (M0 + 1) * MIN]);
    expect(rolling[1]).toMatchObject({ sum_1h_mm: 5, sum_3h_mm: 6 });
  });

  it('rain before the range (the 24 h lookback) fills the first sums and the first hour, and points land on the site clock with odd offsets', () => {
    const per = new Map([[M0 - 23 * 60, 10_000]]);
    const { rolling, hourly } = rainWindows(per, { fromMinute: M0, throughMinute: M0 + 59, stepMin: 30, offsetMin: 5 * 60 + 45 });
    expect(rolling.every((r) => r.sum_24h_mm === 10 && r.sum_12h_mm === 0)).toBe(true);
    // +05:45: the site's half hours are at :15 and :45 UTC.
    expect(rolling.map((r) => new Date(r.at).toISOString().slice(11, 16))).toEqual(['00:15', '00:45', '01:00']);
    expect(hourly.map((h) => new Date(h.at).toISOString().slice(11, 16))).toEqual(['23:15', '00:15']);
  });

  it('the same rolling sums as the engine for the same series (wrap, reset and gap in it)', () => {
    const cfg = site(`
site: { id: t, name: t }
sensors: [{ id: rg1, kind: rain, counter_modulus: 1000, scale: 0.5, rules: [{ window_h: 24, mm: 99999, level: red }] }]
`);
    const rig = new EngineRig(cfg, M0 * MIN);
    const rows: MinuteTotal[] = [];
    let t = 990;
    for (let i = 0; i <= 600; i++) {
      if (i >= 300 && i < 320) continue; // a 20-minute gap
      if (i === 400) t = 2; // a reset
      else t = (t + (i % 7 === 0 ? 2 : 1)) % 1000; // wraps at 1000 near the start
      // One reading at the end of each minute: that minute's last total.
      rig.read('rg1', t, (M0 + i) * MIN + 59_000);
      rows.push({ minute: M0 + i, last: t });
    }
    const cfgRain = cfg.sensors[0]!;
    if (cfgRain.kind !== 'rain') throw new Error('rain');
    const per = rainPerMinute(rows, cfgRain);
    const through = M0 + 600;
    const { rolling } = rainWindows(per, { fromMinute: through - 60, throughMinute: through, stepMin: 10, offsetMin: OFF });
    const rt = rig.state.sensors.get('rg1')!;
    if (rt.kind !== 'rain') throw new Error('rain');
    const engine = rainSums(rt.rain);
    expect(rolling.at(-1)).toEqual({ at: (through + 1) * MIN, sum_1h_mm: engine.rain_1h_mm, sum_3h_mm: engine.rain_3h_mm, sum_6h_mm: engine.rain_6h_mm, sum_12h_mm: engine.rain_12h_mm, sum_24h_mm: engine.rain_24h_mm });
    expect(engine.rain_24h_mm).toBeGreaterThan(0);
  });

  it('the rolling step keeps any range to a few hundred points; the lookback covers a 24 h window and its baseline', () => {
    expect([rollingStepMin(1), rollingStepMin(48), rollingStepMin(49), rollingStepMin(168), rollingStepMin(744)]).toEqual([10, 10, 30, 30, 60]);
    expect((744 * 60) / rollingStepMin(744)).toBe(744);
    expect(LOOKBACK_MIN).toBe(1441);
  });
});
