/**
 * The box started on a log it cannot open (issue 15): a read-only filesystem, a damaged file
 * (garbage bytes, a truncated database), a database of a newer schema, a full disk, a missing
 * directory. In each case the box still acts on an alarm, the event log keeps the alarm (in
 * memory until the file opens, then on disk with seqs above every one already in it), and the
 * retained status says `storage_degraded:<reason>` while it lasts.
 *
 * The filesystems are real (tmpfs, as in store-disk.test.ts; needs root, as CI and the box
 * run): a tmpfs remounted read-only, and one filled with a ballast file.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startBox, type Box } from '../../gateway/box.ts';
import { SEQ_RESERVE } from '../../gateway/store/connection.ts';
import { pw, boxSite } from '../helpers/box-site.ts';
import { captureLog, fillDisk, mountTmpfs, peek, remount, tempDir, unmount } from '../helpers/store-rig.ts';
import { until } from '../helpers/until.ts';

const tmpfs = mountTmpfs('4m');
const dirs: string[] = [];
afterAll(() => {
  if (tmpfs) unmount(tmpfs);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Running {
  box: Box;
  lines: Array<Record<string, unknown>>;
  clients: MqttClient[];
}
let running: Running | null = null;
afterEach(async () => {
  if (!running) return;
  await Promise.all(running.clients.map((c) => c.endAsync(true)));
  await running.box.stop();
  running = null;
});

async function boot(dbPath: string): Promise<Running> {
  const { log, lines } = captureLog();
  const box = await startBox({ config: await boxSite(dbPath), log, tcpPort: 0, wsPort: 0, storeOptions: { retryMs: 100, retryMaxMs: 200 } });
  running = { box, lines, clients: [] };
  return running;
}

async function connect(r: Running, user: string): Promise<MqttClient> {
  const url = `mqtt://127.0.0.1:${r.box.broker.tcpPort}`;
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, username: user, password: pw(user), clientId: `${user}-${Math.random().toString(16).slice(2, 8)}`, reconnectPeriod: 0 });
  r.clients.push(c);
  return c;
}

/** The retained status, read by a new subscriber (what the township's dashboard sees). */
async function retainedStatus(r: Running): Promise<{ state: string; problems: string[] }> {
  const c = await connect(r, 'viewer');
  const got = new Promise<{ state: string; problems: string[] }>((resolve) => c.on('message', (_t, p) => resolve(JSON.parse(p.toString()))));
  await c.subscribeAsync('sb/v1/itest/status', { qos: 1 });
  const s = await got;
  await c.endAsync(true);
  r.clients.splice(r.clients.indexOf(c), 1);
  return s;
}

/** A water level over the guaranteed stage: the box must sound the siren whatever its log does. */
async function alarm(r: Running): Promise<void> {
  const siren = await connect(r, 'siren1');
  await siren.subscribeAsync('sb/v1/itest/cmd/siren1', { qos: 1 });
  const sounded = new Promise<void>((resolve) => siren.on('message', () => resolve()));
  const wl = await connect(r, 'wl1');
  await wl.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 3.2, unit: 'm' }), { qos: 1 });
  await sounded;
  await until('the transition in the log', () => r.box.store.since(0).some((e) => e.type === 'transition'));
}

function onDisk(path: string): Array<{ seq: number; type: string; payload: string }> {
  return peek(path, (db) => db.prepare('SELECT seq, type, payload FROM events ORDER BY seq').all() as Array<{ seq: number; type: string; payload: string }>);
}

function newDir(): string {
  const d = tempDir('sb-store-start-');
  dirs.push(d);
  return d;
}

/** Runs a box on `path` long enough to log a start and a stop: an earlier run's log. */
async function previousRun(path: string): Promise<number> {
  const r = await boot(path);
  await r.box.stop();
  running = null;
  return r.box.store.lastSeq();
}

describe('the machine can make the filesystems these tests need', () => {
  it('mounts a tmpfs (root)', () => {
    expect(tmpfs, 'mount -t tmpfs failed: run the tests as root').toBeTruthy();
  });
});

describe('a read-only filesystem at start', () => {
  it('holds the alarm in memory, says storage_degraded:read_only, and writes it above the old seqs once writable', async () => {
    const dir = join(tmpfs!, 'ro');
    mkdirSync(dir);
    const path = join(dir, 'box.db');
    const before = await previousRun(path);
    remount(tmpfs!, 'ro');
    try {
      const r = await boot(path);
      await alarm(r);
      expect(r.box.store.health()).toMatchObject({ degraded: true, reason: 'read_only' });
      expect((await retainedStatus(r)).problems).toContain('storage_degraded:read_only');
      const said = r.lines.filter((l) => l.reason === 'read_only' && Number(l.level) >= 50);
      expect(said, 'one error line that says what is wrong and what to do').toHaveLength(1);
      expect(String(said[0]!.advice)).toMatch(/read-only/);
      await new Promise((res) => setTimeout(res, 600)); // several retries fail
      expect(r.lines.filter((l) => l.reason === 'read_only' && Number(l.level) >= 50)).toHaveLength(1);
      remount(tmpfs!, 'rw');
      await until('the store healthy', () => !r.box.store.health().degraded);
      expect((await retainedStatus(r)).problems).toEqual([]);
      const events = onDisk(path);
      const seqs = events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      const now = events.filter((e) => e.seq > before);
      expect(now.map((e) => e.type)).toEqual(expect.arrayContaining(['start', 'transition', 'effect', 'storage']));
      expect(events.filter((e) => e.seq <= before).map((e) => e.type)).toEqual(['start', 'stop']);
      // SQLite could not open the file at all (no -shm to read it by), so the held events were
      // numbered from 1 and moved above the file's seqs when it opened; the log says so.
      const renumbered = events.find((e) => e.type === 'storage' && JSON.parse(e.payload).what === 'seq_renumbered');
      expect(JSON.parse(renumbered!.payload)).toMatchObject({ from: 1, to: before + 1 });
    } finally {
      remount(tmpfs!, 'rw');
    }
  });
});

describe.each([
  ['garbage bytes', (path: string) => writeFileSync(path, Buffer.alloc(64 * 1024, 0x5a))],
  [
    'a truncated database',
    (path: string) => {
      const db = new Database(path);
      db.exec("CREATE TABLE filler (x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO filler SELECT hex(randomblob(100)) FROM n;");
      db.close();
      truncateSync(path, 20_000);
    },
  ],
])('a damaged log file (%s)', (_what, damage) => {
  it('moves it aside untouched (with its -wal/-shm) and keeps logging in a fresh file, seqs above any the old one can hold', async () => {
    const dir = newDir();
    const path = join(dir, 'box.db');
    damage(path);
    writeFileSync(`${path}-wal`, 'left by the crash');
    const original = readFileSync(path);
    const r = await boot(path);
    await alarm(r);
    const aside = readdirSync(dir).filter((f) => f.startsWith('box.db.corrupt-'));
    const main = aside.find((f) => /^box\.db\.corrupt-[0-9TZ]+$/.test(f));
    expect(main, `the damaged file renamed (found ${aside.join(', ')})`).toBeTruthy();
    expect(readFileSync(join(dir, main!)).equals(original)).toBe(true);
    expect(readFileSync(join(dir, `${main}-wal`), 'utf8'), 'its WAL renamed with it, as it was').toBe('left by the crash');
    expect(r.box.store.health()).toMatchObject({ degraded: false });
    expect((await retainedStatus(r)).problems).toEqual([expect.stringMatching(/^storage_log_replaced:corrupt$/)]);
    const said = r.lines.filter((l) => Number(l.level) >= 50 && String(l.msg).includes('damaged'));
    expect(said).toHaveLength(1);
    expect(String(said[0]!.advice)).toContain(main!);
    const events = onDisk(path);
    const replaced = events.find((e) => e.type === 'storage' && JSON.parse(e.payload).what === 'log_replaced');
    expect(replaced, 'the fresh log says it replaced a damaged one').toBeTruthy();
    expect(JSON.parse(replaced!.payload)).toMatchObject({ reason: 'corrupt', moved_to: expect.stringContaining('box.db.corrupt-') });
    // The old log's seqs are unknown: the fresh one counts from the wall clock's ms, above any counter.
    expect(events[0]!.seq).toBeGreaterThan(Date.parse('2025-01-01'));
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['start', 'transition', 'effect']));
  });
});

describe('a database of a newer schema', () => {
  it('is not touched: the store holds events in memory and says storage_degraded:newer_schema', async () => {
    const dir = newDir();
    const path = join(dir, 'box.db');
    const db = new Database(path);
    db.exec("CREATE TABLE events (seq INTEGER PRIMARY KEY, type TEXT, payload TEXT); INSERT INTO events VALUES (41, 'start', '{}');");
    db.pragma('user_version = 99');
    db.close();
    const original = readFileSync(path);
    const r = await boot(path);
    await alarm(r);
    expect(r.box.store.health()).toMatchObject({ degraded: true, reason: 'newer_schema' });
    expect((await retainedStatus(r)).problems).toContain('storage_degraded:newer_schema');
    const said = r.lines.filter((l) => l.reason === 'newer_schema' && Number(l.level) >= 50);
    expect(said).toHaveLength(1);
    expect(String(said[0]!.advice)).toMatch(/newer/);
    // Held events count above what the newer file holds, so they never collide with it.
    expect(Math.min(...r.box.store.since(0).map((e) => e.seq))).toBeGreaterThan(41);
    await r.box.stop();
    running = null;
    expect(readFileSync(path).equals(original)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
    const lastWords = r.lines.find((l) => String(l.msg).startsWith('stopping with events that never reached the disk'));
    expect((lastWords!.events as Array<{ type: string }>).map((e) => e.type)).toEqual(expect.arrayContaining(['start', 'transition', 'effect', 'stop']));
  });
});

describe('a full disk at start (tmpfs)', () => {
  it('holds the alarm, says storage_degraded:disk_full, and writes it once space is freed', async () => {
    const dir = join(tmpfs!, 'full');
    mkdirSync(dir);
    const path = join(dir, 'box.db');
    const ballast = join(tmpfs!, 'ballast');
    expect(fillDisk(ballast)).toBeGreaterThan(0);
    try {
      const r = await boot(path);
      await alarm(r);
      expect(r.box.store.health()).toMatchObject({ degraded: true, reason: 'disk_full' });
      expect((await retainedStatus(r)).problems).toContain('storage_degraded:disk_full');
      rmSync(ballast);
      await until('the store healthy', () => !r.box.store.health().degraded);
      expect((await retainedStatus(r)).problems).toEqual([]);
      const types = onDisk(path).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['start', 'transition', 'effect', 'storage']));
    } finally {
      rmSync(ballast, { force: true });
    }
  });
});

describe('a full disk at start, under a log an earlier run left (tmpfs)', () => {
  it('says storage_degraded:disk_full, and writes the held events above the old seqs once space is freed', async () => {
    const dir = join(tmpfs!, 'full-old');
    mkdirSync(dir);
    const path = join(dir, 'box.db');
    const before = await previousRun(path);
    const ballast = join(tmpfs!, 'ballast-old');
    expect(fillDisk(ballast)).toBeGreaterThan(0);
    try {
      const r = await boot(path);
      await alarm(r);
      expect(r.box.store.health()).toMatchObject({ degraded: true, reason: 'disk_full' });
      expect((await retainedStatus(r)).problems).toContain('storage_degraded:disk_full');
      rmSync(ballast);
      await until('the store healthy', () => !r.box.store.health().degraded);
      const events = onDisk(path);
      expect(events.filter((e) => e.seq <= before).map((e) => e.type)).toEqual(['start', 'stop']);
      expect(events.filter((e) => e.seq > before).map((e) => e.type)).toEqual(expect.arrayContaining(['start', 'transition', 'effect', 'storage']));
    } finally {
      rmSync(ballast, { force: true });
    }
  });
});

describe('a missing directory', () => {
  it('is made, and the log opens in it', async () => {
    const path = join(newDir(), 'not', 'yet', 'box.db');
    const r = await boot(path);
    await alarm(r);
    expect(r.box.store.health().degraded).toBe(false);
    expect((await retainedStatus(r)).problems).toEqual([]);
    expect(onDisk(path).map((e) => e.type)).toEqual(expect.arrayContaining(['start', 'transition']));
  });
});

describe('seqs held while the log opens only read-only (its -wal and -shm are there)', () => {
  it('never collide with the seqs in the file, nor with its reservation', async () => {
    const dir = join(tmpfs!, 'seq');
    mkdirSync(dir);
    const path = join(dir, 'box.db');
    const before = await previousRun(path);
    const reserved = peek(path, (db) => db.prepare("SELECT value FROM meta WHERE key = 'seq_reserved'").pluck().get() as number);
    expect(reserved).toBe(before);
    remount(tmpfs!, 'ro');
    let r: Running;
    try {
      r = await boot(path);
      await alarm(r);
    } finally {
      remount(tmpfs!, 'rw');
    }
    await until('the store healthy', () => !r!.box.store.health().degraded);
    const after = r!.box.store.since(before).map((e) => e.seq);
    expect(after.length).toBeGreaterThan(0);
    expect(Math.min(...after)).toBeGreaterThan(before);
    expect(r!.box.store.since(0).map((e) => e.seq)).toEqual(onDisk(path).map((e) => e.seq));
    // This run's reservation is on disk, ahead of its seqs, as after a normal start.
    const now = peek(path, (db) => db.prepare("SELECT value FROM meta WHERE key = 'seq_reserved'").pluck().get() as number);
    expect(now).toBeGreaterThanOrEqual(r!.box.store.lastSeq() + SEQ_RESERVE);
  });
});

describe('a store that throws anyway (stopped under the box)', () => {
  it('the box still sounds the siren, and its FATAL line keeps the events themselves, not only their types', async () => {
    const r = await boot(join(newDir(), 'box.db'));
    await r.box.store.stop();
    const siren = await connect(r, 'siren1');
    await siren.subscribeAsync('sb/v1/itest/cmd/siren1', { qos: 1 });
    const sounded = new Promise<void>((resolve) => siren.on('message', () => resolve()));
    const wl = await connect(r, 'wl1');
    await wl.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 3.2, unit: 'm' }), { qos: 1 });
    await sounded;
    const fatal = await until('the FATAL line', () => r.lines.find((l) => l.level === 60 && String(l.msg).startsWith('events could not be logged')));
    const events = fatal.events as Array<{ type: string; payload: { alert?: string; level?: string } }>;
    expect(events.find((e) => e.type === 'transition')!.payload).toMatchObject({ alert: expect.stringMatching(/^wl1\//), level: 'orange' });
  });
});
