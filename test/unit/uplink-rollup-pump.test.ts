/**
 * The uplink's rollup pump on a real SQLite store: a bounded page at a time, and the rollup
 * cursor kept in meta only once every message of the page is acknowledged (at-least-once).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROLLUP_CURSOR_KEY, RollupPump } from '../../gateway/uplink/rollup-pump.ts';
import type { SideMessage } from '../../gateway/uplink/side-message.ts';
import { MIN, openStore, T0, tempDir } from '../helpers/store-rig.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const M0 = T0 / MIN;
const site = { id: 'demo', utcOffset: '+08:00' };

describe('uplink rollup pump', () => {
  it('queues one page, keeps the cursor only after every message of it is acknowledged', async () => {
    const { store } = await openStore(join(dir, 'log.db'));
    for (let m = 0; m < 3; m++) store.addReading({ sensor: 'rg1', value: m, quality: 'good', atWall: T0 + m * MIN + 1000 });
    store.flushReadings();
    store.rollup(T0 + 4 * MIN);
    store.setMetaNumber(ROLLUP_CURSOR_KEY, M0 - 1);
    const sent: { id: number; msg: SideMessage }[] = [];
    let next = 1;
    const pump = new RollupPump(store, site, (msg) => (sent.push({ id: next, msg }), next++), pino({ level: 'silent' }));
    pump.pump(T0 + 6 * MIN);
    expect(sent.map((s) => JSON.parse(s.msg.payload as string).sensors.rg1.last)).toEqual([0, 1, 2]);
    expect(sent).toHaveLength(3);
    pump.pump(T0 + 6 * MIN); // a page on its way: nothing more
    expect(sent).toHaveLength(3);
    pump.done(sent[0]!.id);
    pump.done(sent[2]!.id);
    expect(store.metaNumber(ROLLUP_CURSOR_KEY)).toBe(M0 - 1); // one not acknowledged: a restart sends the page again
    expect(pump.done(999)).toBe(false);
    pump.done(sent[1]!.id);
    expect(store.metaNumber(ROLLUP_CURSOR_KEY)).toBeGreaterThanOrEqual(M0 + 2);
    await store.stop();
  });

  it('a new box starts at the minutes that settle from now on, not its history', async () => {
    const { store } = await openStore(join(dir, 'log.db'));
    store.addReading({ sensor: 'rg1', value: 1, quality: 'good', atWall: T0 + 1000 });
    store.flushReadings();
    store.rollup(T0 + 4 * MIN);
    const sent: SideMessage[] = [];
    const pump = new RollupPump(store, site, (m) => sent.push(m), pino({ level: 'silent' }));
    pump.pump(T0 + 10 * MIN);
    expect(sent).toEqual([]);
    expect(store.metaNumber(ROLLUP_CURSOR_KEY)).not.toBeNull();
    await store.stop();
  });
});
