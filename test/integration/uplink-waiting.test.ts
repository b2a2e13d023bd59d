/**
 * `events_waiting` counts events, not seqs. A box that lost power left its seq reservation
 * behind: the next start skips those seqs (a `seq_skipped` event), and the waiting count must
 * not include them (the demo once told its township 20,029 events were waiting when 33 were).
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Bus } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { EventStore } from '../../gateway/store/event-store.ts';
import { CURSOR_KEY, Uplink } from '../../gateway/uplink/uplink.ts';
import { boxSite } from '../helpers/box-site.ts';
import { BOX_USER, passwordFile } from '../helpers/township.ts';

describe('uplink events_waiting', () => {
  it('counts the events above the cursor, not the seqs a power cut skipped', async () => {
    const log = pino({ level: 'silent' });
    const path = join(mkdtempSync(join(tmpdir(), 'sb-uplink-waiting-')), 'box.db');
    // A township that is not there: a port that was free a moment ago.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const config = await boxSite(path, `uplink: { url: "mqtt://127.0.0.1:${port}", username: ${BOX_USER}, password_file: ${passwordFile()} }`);
    const ctx = { config, bus: new Bus(log), log, clock: systemClock() };
    {
      const s = new EventStore(ctx, { schedule: false });
      await s.start();
      for (let i = 0; i < 40; i++) s.append('note', { i });
      expect(s.setMetaNumber(CURSOR_KEY, 10)).toBe(true);
      await s.stop();
    }
    // What a power cut leaves: the run's reservation on disk, far above its last event.
    const db = new Database(path);
    const last = (db.prepare('SELECT max(seq) AS m FROM events').get() as { m: number }).m;
    db.prepare("UPDATE meta SET value = ? WHERE key = 'seq_reserved'").run(last + 20_000);
    db.close();

    const store = new EventStore(ctx, { schedule: false });
    await store.start();
    const uplink = new Uplink(ctx, store, config.uplink!, { retryFirstMs: 60_000, retryMaxMs: 60_000 });
    try {
      await uplink.start();
      store.append('note', { after: 'restart' });
      expect(store.lastSeq()).toBeGreaterThan(last + 20_000);
      const onDisk = store.since(10).length;
      expect(onDisk).toBeLessThan(50); // 40 + the start's seq_skipped note + one more, minus the 10 acked
      expect(uplink.state()).toMatchObject({ online: false, last_ack_seq: 10, events_waiting: onDisk });
    } finally {
      await uplink.stop();
      await store.stop();
    }
  });
});
