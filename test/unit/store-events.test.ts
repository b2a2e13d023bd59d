import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { EventStore, StoreError } from '../../gateway/store/event-store.ts';
import { SEQ_RESERVE } from '../../gateway/store/connection.ts';
import { fakeClock, openStore, peek, storeSite, T0, tempDir } from '../helpers/store-rig.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as StoreError).code;
  }
  return undefined;
};

describe('event store: append, since, lastSeq', () => {
  it('creates the directory, appends with increasing seqs and stamps every event', async () => {
    const path = join(dir, 'a', 'b', 'log.db');
    const clock = fakeClock(T0, 'boot-1');
    const { store } = await openStore(path, { clock });
    expect(store.lastSeq()).toBe(0);
    const s1 = store.append('start', { version: '0.1.0' });
    clock.advance(1500);
    clock.isTrusted = false;
    const s2 = store.append('transition', { alert: 'rg1/rain/1', level: 'blue' });
    expect([s1, s2]).toEqual([1, 2]);
    expect(store.lastSeq()).toBe(2);
    expect(store.since(0)).toEqual([
      { seq: 1, type: 'start', atWall: T0, atMono: 0, boot: 'boot-1', clockTrusted: true, payload: { version: '0.1.0' } },
      { seq: 2, type: 'transition', atWall: T0 + 1500, atMono: 1500, boot: 'boot-1', clockTrusted: false, payload: { alert: 'rg1/rain/1', level: 'blue' } },
    ]);
    // The row is on disk before append returned: a second connection sees it.
    expect(peek(path, (db) => db.prepare('SELECT seq, type, at_wall, at_mono, boot, clock_trusted, payload FROM events ORDER BY seq').all())).toEqual([
      { seq: 1, type: 'start', at_wall: T0, at_mono: 0, boot: 'boot-1', clock_trusted: 1, payload: '{"version":"0.1.0"}' },
      { seq: 2, type: 'transition', at_wall: T0 + 1500, at_mono: 1500, boot: 'boot-1', clock_trusted: 0, payload: '{"alert":"rg1/rain/1","level":"blue"}' },
    ]);
    await store.stop();
  });

  it('round-trips payloads through JSON', async () => {
    const { store } = await openStore(join(dir, 'log.db'));
    const payloads: unknown[] = [
      { zh: '暴雨红色预警', en: 'Rainstorm red', values: { rainfall_3h_mm: 101.5 }, nested: [1, [2, { x: null }]] },
      'a string',
      42,
      null,
      [true, false],
    ];
    for (const p of payloads) store.append('note', p);
    expect(store.since(0).map((e) => e.payload)).toEqual(payloads);
    // JSON's own conversions apply: a Date becomes its ISO text, undefined members vanish.
    store.append('note', { at: new Date(T0), gone: undefined });
    expect(store.since(5)[0]!.payload).toEqual({ at: new Date(T0).toISOString() });
    await store.stop();
  });

  it('throws StoreError to the caller for a payload with no JSON form, and spends no seq on it', async () => {
    const { store } = await openStore(join(dir, 'log.db'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codeOf(() => store.append('note', cyclic))).toBe('unserialisable_payload');
    expect(codeOf(() => store.append('note', { n: 10n }))).toBe('unserialisable_payload');
    expect(codeOf(() => store.append('note', undefined))).toBe('unserialisable_payload');
    expect(codeOf(() => store.append('note', () => 1))).toBe('unserialisable_payload');
    expect(() => store.append('note', 10n)).toThrow(StoreError);
    expect(codeOf(() => store.append('alarm' as never, {}))).toBe('unknown_type');
    expect(store.append('note', 'fine')).toBe(1);
    await store.stop();
  });

  it('refuses to work before start and after stop, and stop resolves even if start failed', async () => {
    const store = new EventStore({ config: storeSite(), log: pino({ level: 'silent' }), clock: fakeClock() }, { path: join(dir, 'x.db'), schedule: false });
    expect(codeOf(() => store.append('note', 1))).toBe('not_open');
    expect(codeOf(() => store.since(0))).toBe('not_open');
    await store.stop();
    // A directory where the file should be: the store starts degraded (cannot_open), holds
    // events in memory, and stops cleanly (store-start.test.ts has the box's side of it).
    const broken = new EventStore({ config: storeSite(), log: pino({ level: 'silent' }), clock: fakeClock() }, { path: dir, schedule: false });
    await expect(broken.start()).resolves.toBeUndefined();
    expect(broken.health()).toMatchObject({ degraded: true, reason: 'cannot_open' });
    const held = broken.append('note', 'held');
    expect(broken.since(0).map((e) => [e.seq, e.type])).toEqual([
      [held - 1, 'storage'],
      [held, 'note'],
    ]);
    await expect(broken.stop()).resolves.toBeUndefined();
  });

  it('since() pages in ascending order', async () => {
    const { store } = await openStore(join(dir, 'log.db'));
    for (let i = 1; i <= 10; i++) store.append('observation', { i });
    expect(store.since(3, 4).map((e) => e.seq)).toEqual([4, 5, 6, 7]);
    expect(store.since(8).map((e) => e.seq)).toEqual([9, 10]);
    expect(store.since(10)).toEqual([]);
    expect(store.since(0, 0)).toEqual([]);
    await store.stop();
  });

  it('continues the seq after a clean stop, without a gap', async () => {
    const path = join(dir, 'log.db');
    const a = await openStore(path);
    a.store.append('start', {});
    a.store.append('stop', {});
    await a.store.stop();
    const b = await openStore(path);
    expect(b.store.lastSeq()).toBe(2);
    expect(b.store.append('start', {})).toBe(3);
    expect(b.store.since(0).map((e) => [e.seq, e.type])).toEqual([
      [1, 'start'],
      [2, 'stop'],
      [3, 'start'],
    ]);
    await b.store.stop();
  });

  it('after an unclean end, skips past every seq the dead run may have handed out, and says so', async () => {
    const path = join(dir, 'log.db');
    const a = await openStore(path);
    a.store.append('transition', { n: 1 });
    // No stop(): the process "dies". Its reservation stays on disk.
    const b = await openStore(path);
    const first = b.store.lastSeq();
    expect(first).toBe(1 + 2 * SEQ_RESERVE);
    const events = b.store.since(0);
    expect(events.map((e) => e.seq)).toEqual([1, first]);
    expect(events[1]).toMatchObject({ type: 'storage', payload: { what: 'seq_skipped', from: 2, to: first - 1 } });
    expect(b.store.append('note', 'next')).toBe(first + 1);
    await b.store.stop();
  });

  it('extends the reservation as it goes, so seqs far past the first block are still covered', async () => {
    // 10 000 fsync'd commits: on tmpfs (no fsync cost) when there is one.
    const path = join(existsSync('/dev/shm') ? dir.replace(tmpdir(), '/dev/shm') : dir, 'log.db');
    mkdirSync(dirname(path), { recursive: true });
    onTestFinished(() => rmSync(dirname(path), { recursive: true, force: true }));
    const { store } = await openStore(path, { pendingLimit: 10 });
    const reserved = (): number => peek(path, (db) => (db.prepare("SELECT value FROM meta WHERE key = 'seq_reserved'").get() as { value: number }).value);
    expect(reserved()).toBe(2 * SEQ_RESERVE);
    for (let i = 0; i < SEQ_RESERVE + 5; i++) store.append('observation', i);
    expect(reserved()).toBeGreaterThanOrEqual(store.lastSeq() + SEQ_RESERVE);
    await store.stop();
    expect(reserved()).toBe(store.lastSeq());
  });
});
