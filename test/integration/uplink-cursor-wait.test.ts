/**
 * The uplink never starts blind: while the log cannot be opened (here: a database of a newer
 * schema, left untouched) its cursor is unknown, so the uplink does not connect — starting from
 * 0 would resend the whole log, starting from the end would lose what waits. Once the log opens,
 * it resumes from the cursor the log holds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bus } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { EventStore } from '../../gateway/store/event-store.ts';
import { CURSOR_KEY, Uplink } from '../../gateway/uplink/uplink.ts';
import { boxSite } from '../helpers/box-site.ts';
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

describe('uplink cursor while the log cannot be opened', () => {
  it('waits, then resumes from the cursor in the log', async () => {
    const log = pino({ level: 'silent' });
    const path = join(mkdtempSync(join(tmpdir(), 'sb-uplink-cursor-')), 'box.db');
    const config = await boxSite(path, `uplink: { url: "${mosq.url}", username: ${BOX_USER}, password_file: ${passwordFile()} }`);
    const ctx = { config, bus: new Bus(log), log, clock: systemClock() };
    {
      const s = new EventStore(ctx, { schedule: false });
      await s.start();
      for (let i = 0; i < 100; i++) s.append('note', { i });
      expect(s.setMetaNumber(CURSOR_KEY, 60)).toBe(true);
      await s.stop();
    }
    const db = new Database(path);
    const version = db.pragma('user_version', { simple: true }) as number;
    db.pragma('user_version = 99');
    db.close();

    const store = new EventStore(ctx, { schedule: false, retryMs: 100, retryMaxMs: 200 });
    await store.start();
    expect(store.health()).toMatchObject({ degraded: true, reason: 'newer_schema' });
    const uplink = new Uplink(ctx, store, config.uplink!, { retryFirstMs: 100, retryMaxMs: 200 });
    const town = await subscribe(mosq.url);
    try {
      await uplink.start();
      await new Promise((r) => setTimeout(r, 800));
      expect(uplink.counts.connects).toBe(0);
      expect(uplink.state().online).toBe(false);
      const fixed = new Database(path);
      fixed.pragma(`user_version = ${version}`);
      fixed.close();
      await until('the log open again', () => !store.health().degraded || store.health().reason !== 'newer_schema');
      const all = () => store.since(0).map((e) => e.seq);
      await until('online and caught up', () => uplink.state().online && uplink.state().events_waiting === 0 && all().filter((s) => s > 60).every((s) => town.bySeq.has(s)), 20_000);
      expect([...town.bySeq.keys()].filter((s) => s <= 60)).toEqual([]);
      expect(town.bySeq.has(61)).toBe(true);
    } finally {
      await uplink.stop();
      await town.stop();
      await store.stop();
    }
  });
});
