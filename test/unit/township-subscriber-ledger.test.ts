/**
 * The example township subscriber's core: event checks, dedupe by (site, seq), announced versus
 * unexplained gaps, lag; the same ledger over a SQLite store two consumers share.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addToRanges, Ledger, MemorySeen, parseEvent, percentile, unexplainedGaps, type Range, type TownshipEvent } from '../../examples/township-subscriber/ledger.ts';
import { SqliteSeen } from '../../examples/township-subscriber/sqlite-seen.ts';

const AT = '2026-07-20T08:00:00+08:00';
const T = Date.parse(AT);

function ev(site: string, seq: number, extra: Record<string, unknown> = {}): TownshipEvent {
  const p = parseEvent(`sb/v1/${site}/event`, JSON.stringify({ site, seq, boot: 'b1', at: AT, clock_trusted: true, type: 'transition', live: true, ...extra }));
  if (!p.ok) throw new Error(p.reason);
  return p.event;
}
const skipped = (site: string, seq: number, from: number, to: number): TownshipEvent => ev(site, seq, { type: 'storage', what: 'seq_skipped', from, to, why: 'unclean stop' });

describe('parseEvent', () => {
  it('takes the envelope and keeps the fields', () => {
    const p = parseEvent('sb/v1/a/event', Buffer.from(JSON.stringify({ site: 'a', seq: 3, boot: 'b', at: AT, clock_trusted: false, type: 'effect', live: false, effect_type: 'siren' })));
    expect(p).toEqual({ ok: true, event: { site: 'a', seq: 3, boot: 'b', at: AT, clockTrusted: false, type: 'effect', live: false, fields: expect.objectContaining({ effect_type: 'siren' }) } });
  });

  it.each([
    ['sb/v1/a/status', '{}', /not an event topic/],
    ['sb/v1/a/event', 'not json', /not JSON/],
    ['sb/v1/a/event', '[1]', /not a JSON object/],
    ['sb/v1/a/event', 'null', /not a JSON object/],
    ['sb/v1/a/event', JSON.stringify({ site: 'b', seq: 1, at: AT, type: 'x' }), /does not match/],
    ['sb/v1/a/event', JSON.stringify({ site: 'a', seq: 0, at: AT, type: 'x' }), /seq must be/],
    ['sb/v1/a/event', JSON.stringify({ site: 'a', seq: 1.5, at: AT, type: 'x' }), /seq must be/],
    ['sb/v1/a/event', JSON.stringify({ site: 'a', seq: '1', at: AT, type: 'x' }), /seq must be/],
    ['sb/v1/a/event', JSON.stringify({ site: 'a', seq: 1, at: 'yesterday', type: 'x' }), /at must be/],
    ['sb/v1/a/event', JSON.stringify({ site: 'a', seq: 1, at: AT }), /type is missing/],
  ])('rejects %s %s with a reason', (topic, payload, reason) => {
    const p = parseEvent(topic, payload);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.reason).toMatch(reason);
  });
});

describe('ranges', () => {
  it('adds seqs in any order, merging neighbours, and refuses what is there', () => {
    const r: Range[] = [];
    for (const s of [5, 3, 4, 10, 1, 9, 2, 11]) expect(addToRanges(r, s)).toBe(true);
    expect(r).toEqual([[1, 5], [9, 11]]);
    for (const s of [1, 3, 5, 9, 11]) expect(addToRanges(r, s)).toBe(false);
    expect(addToRanges(r, 7)).toBe(true);
    expect(r).toEqual([[1, 5], [7, 7], [9, 11]]);
    expect(addToRanges(r, 6)).toBe(true);
    expect(addToRanges(r, 8)).toBe(true);
    expect(r).toEqual([[1, 11]]);
  });

  it('finds the holes no announced gap explains', () => {
    expect(unexplainedGaps([[1, 5]], [])).toEqual([]);
    expect(unexplainedGaps([[1, 5], [10, 12]], [])).toEqual([[6, 9]]);
    expect(unexplainedGaps([[1, 5], [10, 12]], [[6, 9]])).toEqual([]);
    expect(unexplainedGaps([[1, 5], [10, 12]], [[7, 8]])).toEqual([[6, 6], [9, 9]]);
    expect(unexplainedGaps([[1, 5], [10, 12], [20, 20]], [[3, 7], [15, 30]])).toEqual([[8, 9], [13, 14]]);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
  });
});

describe('Ledger', () => {
  it('dedupes by (site, seq), reports gaps as announced or missing, and lag from at', () => {
    const l = new Ledger();
    for (const s of [1, 2, 3, 4, 5]) expect(l.accept(ev('a', s), T + 400).fresh).toBe(true);
    expect(l.accept(ev('a', 3), T + 400)).toEqual({ fresh: false, lagMs: null, announced: null });
    // Seqs 6–9 were handed out by a run that died; the box says so with the next event.
    expect(l.accept(skipped('a', 10, 6, 9), T + 1500)).toEqual({ fresh: true, lagMs: 1500, announced: [6, 9] });
    l.accept(ev('a', 12), T + 2000);
    // Same seqs at another site are other events.
    expect(l.accept(ev('b', 3), T + 100).fresh).toBe(true);
    // A box without a trusted clock: no lag.
    expect(l.accept(ev('c', 1, { clock_trusted: false }), T + 99_000).lagMs).toBeNull();

    expect(l.report('a')).toEqual({ events: 7, first: 1, last: 12, announced: [[6, 9]], gaps: [[11, 11]], duplicates: 1, lagLastMs: 2000, lagMaxMs: 2000 });
    expect(l.report('b')).toMatchObject({ events: 1, gaps: [], duplicates: 0 });
    expect(l.report('c')).toMatchObject({ events: 1, lagLastMs: null });
    expect(l.sites()).toEqual(['a', 'b', 'c']);
    expect(l.lagPercentiles()).toEqual({ p50: 400, p99: 2000, samples: 8 });
  });

  it('ignores a seq_skipped without a usable range', () => {
    const l = new Ledger();
    expect(l.accept(skipped('a', 5, 9, 6), T).announced).toBeNull();
    expect(l.accept(ev('a', 6, { type: 'storage', what: 'seq_skipped', from: '1', to: 3 }), T).announced).toBeNull();
    expect(l.report('a').announced).toEqual([]);
  });

  it('dedupes across two consumers only when they share the store', () => {
    const alone = [new Ledger(new MemorySeen()), new Ledger(new MemorySeen())];
    expect(alone[0]!.accept(ev('a', 1), T).fresh).toBe(true);
    expect(alone[1]!.accept(ev('a', 1), T).fresh).toBe(true); // a resend the broker gave the other one
    const store = new MemorySeen();
    const together = [new Ledger(store), new Ledger(store)];
    expect(together[0]!.accept(ev('a', 1), T).fresh).toBe(true);
    expect(together[1]!.accept(ev('a', 1), T).fresh).toBe(false);
  });
});

describe('SqliteSeen (two consumers, one file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-seen-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('dedupes and reports the same gaps from either connection, and again after reopening', () => {
    const file = join(dir, 'seen.db');
    const x = new SqliteSeen(file);
    const y = new SqliteSeen(file);
    const lx = new Ledger(x);
    const ly = new Ledger(y);
    const seqs = [1, 2, 3, 5, 4, 7, 8];
    seqs.forEach((s, i) => expect((i % 2 ? lx : ly).accept(ev('a', s), T).fresh).toBe(true));
    expect(lx.accept(ev('a', 4), T).fresh).toBe(false);
    expect(ly.accept(ev('a', 7), T).fresh).toBe(false);
    ly.accept(skipped('a', 20, 12, 19), T);
    lx.accept(skipped('a', 20, 12, 19), T); // a resend of it: announced once
    lx.accept(ev('b', 1), T);
    for (const l of [lx, ly]) expect(l.report('a')).toMatchObject({ events: 8, first: 1, last: 20, announced: [[12, 19]], gaps: [[6, 6], [9, 11]] });
    expect(x.sites()).toEqual(['a', 'b']);
    x.close();
    y.close();
    const z = new SqliteSeen(file);
    expect(z.seen('a')).toEqual([[1, 5], [7, 8], [20, 20]]);
    expect(z.add('a', 6)).toBe(true);
    expect(z.seen('a')).toEqual([[1, 8], [20, 20]]);
    z.close();
  });
});
