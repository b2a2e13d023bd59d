import { describe, expect, it } from 'vitest';
import { apply, decode, diff, encode, resetTo, SAME, StateDiffError, type Json } from '../../gateway/state-diff.ts';

/** Through JSON text, as the snapshot row keeps it. */
const viaText = (j: Json | typeof SAME): Json => JSON.parse(JSON.stringify(j)) as Json;

describe('state diff', () => {
  it('encodes what JSON lacks and decodes it back: Maps, Sets, typed arrays, NaN, ±Infinity, undefined, $ keys', () => {
    const v = {
      m: new Map<string, unknown>([['a', 1], ['b', { x: Number.NaN }]]),
      s: new Set(['p', 'q']),
      f64: new Float64Array([1.5, Number.POSITIVE_INFINITY, Number.NaN]),
      i32: new Int32Array([-3, 7]),
      u8: new Uint8Array([0, 1, 1]),
      lo: Number.NEGATIVE_INFINITY,
      u: undefined,
      dollar: { $d: 'kept' },
      list: [null, 'x', true, [2]],
    };
    const back = decode(viaText(encode(v))) as typeof v;
    expect(back).toEqual(v);
    expect(back.f64).toBeInstanceOf(Float64Array);
    expect(back.i32).toBeInstanceOf(Int32Array);
    expect(Object.hasOwn(back, 'u')).toBe(true);
  });

  it('leaves out what equals the base and functions; applied to a fresh state it gives the live one', () => {
    const config = { thresholdM: 3 };
    const make = () => ({ config, describe: () => 'text', key: 'wl1/stage', times: new Float64Array(3), alerts: new Map<string, { level: string }>(), active: null as null | { id: string }, upSince: null as number | null });
    const base = make();
    const live = make();
    expect(diff(live, base)).toBe(SAME);
    live.active = { id: 'wl1/stage/1' };
    live.alerts.set('wl1/stage/1', { level: 'red' });
    live.times[1] = 5;
    const d = viaText(diff(live, base));
    // Only the state: no config, no key, no function.
    expect(Object.keys((d as { $diff: object }).$diff).sort()).toEqual(['active', 'alerts', 'times']);
    const fresh = make();
    const describe = fresh.describe;
    apply(fresh, d);
    expect(fresh.active).toEqual({ id: 'wl1/stage/1' });
    expect(fresh.alerts.get('wl1/stage/1')).toEqual({ level: 'red' });
    expect([...fresh.times]).toEqual([0, 5, 0]);
    expect(fresh.describe).toBe(describe);
    expect(fresh.config).toBe(config);
  });

  it('changes the target in place but copies what lies below it, which may be shared', () => {
    const shared = { level: null as string | null, rule: '' };
    const base = { last: shared, n: 0 };
    const live = { last: { level: 'red', rule: 'stage' }, n: 0 };
    const target = { last: shared, n: 0 };
    apply(target, viaText(diff(live, base)));
    expect(target.last).toEqual({ level: 'red', rule: 'stage' });
    expect(shared).toEqual({ level: null, rule: '' });
  });

  it('skips a part the target has no place for (a sensor or zone no longer configured), naming it', () => {
    const base = { channels: new Map([['b3/siren', { current: null as string | null }]]) };
    const live = { channels: new Map([['b3/siren', { current: 'act-1' as string | null }]]) };
    const target = { channels: new Map([['b4/siren', { current: null as string | null }]]) };
    const skipped: string[] = [];
    apply(target, viaText(diff(live, base)), skipped, 'planner');
    expect(skipped).toEqual(['planner.channels.b3/siren']);
    expect([...target.channels.keys()]).toEqual(['b4/siren']);
  });

  it('records removed fields and Map entries, and resetTo undoes everything', () => {
    const base = { a: 1, b: 2, m: new Map([['k', 1]]) } as { a: number; b?: number; m: Map<string, number> };
    const live = { a: 1, m: new Map([['j', 2]]) } as typeof base;
    const target = { a: 1, b: 2, m: new Map([['k', 1]]) } as typeof base;
    apply(target, viaText(diff(live, base)));
    expect(target).toEqual(live);
    expect(resetTo(target, base)).toEqual(base);
  });

  it('refuses what it cannot save or read, with a code', () => {
    class Thing {}
    expect(() => encode({ x: new Thing() })).toThrow(expect.objectContaining({ code: 'unencodable' }));
    expect(() => decode({ $nonsense: 1 })).toThrow(StateDiffError);
    expect(() => decode({ $typed: 'BigInt64Array', data: [] })).toThrow(expect.objectContaining({ code: 'malformed' }));
    expect(() => apply(new Map(), { $mapdiff: { set: [1], del: [] } })).toThrow(expect.objectContaining({ code: 'malformed' }));
  });
});
