/**
 * The store's open when the log cannot be opened (open-log.ts, open-retry.ts, the seq rule in
 * connection.ts seqsAtOpen), on real files without root. The same on real read-only and full
 * filesystems, through the running box: test/integration/store-start.test.ts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seqsAtOpen } from '../../gateway/store/connection.ts';
import { asideName } from '../../gateway/store/open-log.ts';
import { captureLog, fakeClock, openStore, peek, tempDir } from '../helpers/store-rig.ts';
import { until } from '../helpers/until.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the seq rule when a log opens', () => {
  it('moves held events above the floor only when they would collide, gaps kept', () => {
    expect(seqsAtOpen(5, 1, 100)).toEqual({ last: 105, shift: 100 }); // held 1..5, file used up to 100
    expect(seqsAtOpen(5, 101, 100)).toEqual({ last: 100, shift: 0 }); // above already (a read-only look found the floor)
    expect(seqsAtOpen(130, 101, 100)).toEqual({ last: 130, shift: 0 });
    expect(seqsAtOpen(0, undefined, 42)).toEqual({ last: 42, shift: 0 }); // nothing held: continue above the file
    expect(seqsAtOpen(104, 100, 100)).toEqual({ last: 105, shift: 1 }); // the lowest equal to the floor collides too
  });
});

describe('a damaged log while the clock is not trusted', () => {
  it('is left where it is and events are held; once the clock is set it is moved aside and they are written, renumbered above the clock', async () => {
    const path = join(dir, 'log.db');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const original = readFileSync(path);
    const clock = fakeClock();
    clock.isTrusted = false;
    const { log, lines } = captureLog();
    const { store } = await openStore(path, { clock, log, retryMs: 30, retryMaxMs: 60 });
    expect(store.health()).toMatchObject({ degraded: true, reason: 'corrupt', replacedLog: null });
    const held = store.append('transition', { alert: 'wl1/stage/3', level: 'red' });
    await new Promise((r) => setTimeout(r, 200));
    expect(readdirSync(dir)).not.toContainEqual(expect.stringContaining('.corrupt-'));
    expect(readFileSync(path).equals(original)).toBe(true);
    const said = lines.filter((l) => l.reason === 'corrupt' && Number(l.level) >= 50);
    expect(said).toHaveLength(1);
    expect(String(said[0]!.advice)).toContain('clock');

    clock.isTrusted = true;
    await until('the store healthy', () => !store.health().degraded, 5000);
    const aside = asideName(path, clock.wall());
    expect(store.health().replacedLog).toBe(aside);
    expect(readFileSync(aside).equals(original)).toBe(true);
    const events = peek(path, (db) => db.prepare('SELECT seq, type, payload FROM events ORDER BY seq').all() as Array<{ seq: number; type: string; payload: string }>);
    const transition = events.find((e) => e.type === 'transition')!;
    expect(JSON.parse(transition.payload)).toEqual({ alert: 'wl1/stage/3', level: 'red' });
    expect(transition.seq).toBeGreaterThan(clock.wall());
    expect(transition.seq).not.toBe(held);
    const storage = events.filter((e) => e.type === 'storage').map((e) => JSON.parse(e.payload).what);
    expect(storage).toEqual(['degraded', 'log_replaced', 'seq_renumbered', 'recovered']);
    expect(store.since(0).map((e) => e.seq)).toEqual(events.map((e) => e.seq));
    await store.stop();
  });
});

describe('retrying a log that cannot be opened', () => {
  it('says what is wrong once, then counts failed retries at 2, 4, 8, … — not one line per retry', async () => {
    // A directory where the database file should be: it cannot be opened, whatever the retry.
    const path = join(dir, 'log.db');
    mkdirSync(path);
    const { log, lines } = captureLog();
    const { store } = await openStore(path, { log, retryMs: 5, retryMaxMs: 5 });
    await until('eight failed opens', () => lines.some((l) => l.attempts === 8), 10_000);
    expect(store.health()).toMatchObject({ degraded: true, reason: 'cannot_open' });
    expect(lines.filter((l) => Number(l.level) >= 50 && l.reason === 'cannot_open')).toHaveLength(1);
    expect(lines.filter((l) => l.attempts !== undefined).map((l) => l.attempts)).toEqual([2, 4, 8]);
    expect(lines.find((l) => l.attempts === 8)).toMatchObject({ level: 40, reason: 'cannot_open', pending_events: 1, retry_in_ms: 5 });
    await store.stop();
    expect(existsSync(join(path, 'log.db'))).toBe(false);
  });

  it('doubles the wait from retryMs up to retryMaxMs', async () => {
    const path = join(dir, 'log.db');
    mkdirSync(path);
    const { log, lines } = captureLog();
    const { store } = await openStore(path, { log, retryMs: 5, retryMaxMs: 40 });
    await until('sixteen failed opens', () => lines.some((l) => l.attempts === 16), 10_000);
    expect(lines.filter((l) => l.attempts !== undefined).map((l) => l.retry_in_ms)).toEqual([10, 40, 40, 40]);
    await store.stop();
  });
});
