/**
 * The township never holds an event the box could lose: the uplink forwards only what the disk
 * has confirmed (EventStore.durableSeq). With the log's fdatasync held (gated-sync.ts), events —
 * an urgent red alert among them — are written and logged but not forwarded; once the disk
 * answers they go out, the alert through the live lane.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { record } from '../../gateway/shell/record.ts';
import { EventStore } from '../../gateway/store/event-store.ts';
import { Uplink } from '../../gateway/uplink/uplink.ts';
import { boxSite } from '../helpers/box-site.ts';
import { gatedSync } from '../helpers/gated-sync.ts';
import type { Mosquitto } from '../helpers/mosquitto.ts';
import { BOX_USER, passwordFile, startTownship, subscribe } from '../helpers/township.ts';
import { until } from '../helpers/until.ts';

let mosq: Mosquitto;
beforeAll(async () => {
  mosq = await startTownship();
}, 30_000);
afterAll(async () => {
  await mosq?.stop();
});

describe('uplink and durability', () => {
  it('forwards nothing above durableSeq; forwards it once the disk confirms', async () => {
    const log = pino({ level: 'silent' });
    const config = await boxSite(join(mkdtempSync(join(tmpdir(), 'sb-uplink-durable-')), 'box.db'), `uplink: { url: "${mosq.url}", username: ${BOX_USER}, password_file: ${passwordFile()} }`);
    const ctx = { config, bus: new Bus(log), log, clock: systemClock() };
    const sync = gatedSync();
    const store = new EventStore(ctx, { schedule: false, syncFn: sync.fn });
    await store.start();
    sync.open(); // the reservation and anything before the test: on disk
    await store.synced();
    const uplink = new Uplink(ctx, store, config.uplink!, { retryFirstMs: 100, retryMaxMs: 200 });
    const town = await subscribe(mosq.url);
    try {
      await uplink.start();
      record(ctx, store, 'note', { what: 'durable_before' });
      await until('online and caught up', () => uplink.state().online && uplink.state().events_waiting === 0);
      const before = town.bySeq.size;
      // Now hold the disk: the next syncs wait.
      sync.hold();
      const seqs = [record(ctx, store, 'note', { what: 'not_yet_durable' }), record(ctx, store, 'transition', { transition: 'raised', level: 'red', kind: 'water_level', alert: 'wl1/water_level/1' })];
      await until('the sync is waiting', () => sync.waiting > 0);
      await new Promise((r) => setTimeout(r, 300));
      expect(store.durableSeq()).toBeLessThan(seqs[0]!);
      expect(town.bySeq.size).toBe(before);
      expect(uplink.state().events_waiting).toBeGreaterThanOrEqual(2);
      sync.open();
      await until('both forwarded', () => seqs.every((s) => town.bySeq.has(s)));
      expect(town.bySeq.get(seqs[1]!)).toMatchObject({ type: 'transition', level: 'red', live: true });
    } finally {
      await uplink.stop();
      await town.stop();
      await store.stop();
    }
  });
});
