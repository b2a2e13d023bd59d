/**
 * SD card wear (issue 19): bytes the box writes to storage per hour, the compiled box in its own
 * process as the systemd unit runs it, measured as `write_bytes` of /proc/PID/io (every thread:
 * the log's commits, the checkpointer worker, pino's journal is stdout, not a file here).
 *
 * 1. The realistic site (realistic-site.ts: 50 Modbus sensors polled every 10 s, 10 smoke
 *    detectors, an uplink): QUIET_S of drizzle, then STORM_S of a storm (alerts, sirens,
 *    broadcasts, their events synced one by one). `realistic_mb_per_h` weighs them as a site
 *    sees them: a storm hour every four hours, `(3 × quiet + storm) / 4`.
 * 2. The full site: 1,000 MQTT sensors at 1 Hz (load-gen.ts in a child process) for FULL_S.
 *
 * The budget is 100 MB/h at the realistic site (README "SD card wear"): an 8 GB industrial
 * card rated 3,000 P/E cycles takes 24 TB, which at 100 MB/h is 27 years before the card's
 * own write amplification; at 1 GB/h, under 3 years.
 *
 * `npm run bench -- sd-wear [QUIET_S] [STORM_S] [FULL_S]` (defaults 600 600 300; 0 skips a phase).
 * `WEAR_DIR` puts the log elsewhere (default: the OS temp dir; tmpfs counts no block writes).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parseConfig } from '../../gateway/config/load.ts';
import { migrate } from '../../gateway/store/schema.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';
import { freePort, startMosquitto } from '../helpers/mosquitto.ts';
import { BENCH_SCRYPT, startBoxProcess } from './box-process.ts';
import { fileBytes, MB, round, writeBytes } from './proc-stats.ts';
import { realisticSite, SMOKE } from './realistic-site.ts';

// Phases span whole checkpoint intervals (CHECKPOINT_MS, 5 min at a quiet site): a shorter one
// may miss the checkpoint's copy of the WAL into the database and read low.
const QUIET_S = Number(process.argv[2] ?? 600);
const STORM_S = Number(process.argv[3] ?? 600);
const FULL_S = Number(process.argv[4] ?? 300);
const FULL_SENSORS = 1000;
const WARMUP_S = 40;
const AGE_H = Number(process.env.WEAR_AGE_H ?? 24);
const LOAD = fileURLToPath(new URL('./load-gen.ts', import.meta.url));
const root = mkdtempSync(join(process.env.WEAR_DIR ?? tmpdir(), 'sb-wear-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function listening(port: number, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`the box did not listen on ${port} within ${ms / 1000} s`);
    await sleep(200);
  }
}

/**
 * Where the WAL's frames go: the WAL file sampled every 250 ms, each frame (salt, index) counted
 * once, its page mapped to its table or index by dbstat afterwards. A frame is a whole page
 * (4 KiB + 24 B), written once to the WAL and later once more into the database by a checkpoint
 * if no later frame of the same page supersedes it.
 */
class WalFrames {
  private readonly seen = new Map<string, number>();
  commits = 0;
  constructor(private readonly dbPath: string) {}

  sample(): void {
    let b: Buffer;
    try {
      b = readFileSync(`${this.dbPath}-wal`);
    } catch {
      return;
    }
    if (b.length < 32) return;
    const ps = b.readUInt32BE(8);
    const s1 = b.readUInt32BE(16);
    const s2 = b.readUInt32BE(20);
    for (let off = 32, i = 0; off + 24 + ps <= b.length; off += 24 + ps, i++) {
      if (b.readUInt32BE(off + 8) !== s1 || b.readUInt32BE(off + 12) !== s2) break;
      const key = `${s1}:${s2}:${i}`;
      if (this.seen.has(key)) continue;
      this.seen.set(key, b.readUInt32BE(off));
      if (b.readUInt32BE(off + 4) !== 0) this.commits++;
    }
  }

  /** Frames per table or index (pages that are new since the db was last looked at count as `new pages`). */
  byTable(): Record<string, number> {
    const db = new Database(this.dbPath, { readonly: true });
    const owner = new Map<number, string>();
    try {
      for (const r of db.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[]) owner.set(r.pageno, r.name);
    } finally {
      db.close();
    }
    const by = new Map<string, number>();
    for (const page of this.seen.values()) {
      const name = owner.get(page) ?? 'new pages';
      by.set(name, (by.get(name) ?? 0) + 1);
    }
    return Object.fromEntries([...by].sort((a, b) => b[1] - a[1]));
  }

  get frames(): number {
    return this.seen.size;
  }
}

interface Phase {
  seconds: number;
  /** WAL frames per hour and commits per hour, and frames by table or index over the phase. */
  wal_frames_per_h: number;
  commits_per_h: number;
  frames_by_table: Record<string, number>;
  bytes: number;
  mb_per_h: number;
  /** Growth of the database file over the phase (what the card keeps, not what it is sent). */
  db_growth_mb_per_h: number;
  wal_max_mb: number;
}

/** Measures `seconds` of the box's writes, sampling the WAL's size every second. */
async function measure(pid: number, dbPath: string, seconds: number): Promise<Phase> {
  // The database alone: the WAL comes and goes with each checkpoint.
  const size = (): number => fileBytes(dbPath);
  const b0 = writeBytes(pid);
  const s0 = size();
  const t0 = performance.now();
  let walMax = 0;
  const wal = new WalFrames(dbPath);
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(250);
    wal.sample();
    walMax = Math.max(walMax, fileBytes(`${dbPath}-wal`));
  }
  const hours = (performance.now() - t0) / 3_600_000;
  const bytes = writeBytes(pid) - b0;
  return {
    seconds,
    bytes,
    mb_per_h: round(bytes / MB / hours),
    db_growth_mb_per_h: round((size() - s0) / MB / hours),
    wal_max_mb: round(walMax / MB),
    wal_frames_per_h: Math.round(wal.frames / hours),
    commits_per_h: Math.round(wal.commits / hours),
    frames_by_table: wal.byTable(),
  };
}

/**
 * A log as a box leaves it after a day: AGE_H hours of 1-minute rollups for every sensor. The
 * rollups' primary key is (sensor, minute), so in an aged log each sensor's newest rows sit on
 * a page of their own and a minute's rollups touch one page per sensor; a fresh log packs every
 * sensor's few rows on a handful of pages and hides that.
 */
function ageLog(dbPath: string, sensors: readonly string[]): void {
  const db = new Database(dbPath);
  try {
    migrate(db);
    db.pragma('journal_mode = WAL');
    const insert = db.prepare('INSERT INTO readings_1m (sensor, minute, n, errors, min, max, mean, last, last_at) VALUES (?, ?, 6, 0, ?, ?, ?, ?, ?)');
    const m0 = Math.floor(Date.now() / 60_000) - AGE_H * 60;
    db.transaction(() => {
      for (let m = 0; m < AGE_H * 60; m++) {
        for (const s of sensors) {
          const v = s.startsWith('rg') ? Math.round(m * 0.02 * 10) / 10 : s.startsWith('wl') ? 1.2 : 0;
          insert.run(s, m0 + m, v, v, v, v, (m0 + m) * 60_000 + 59_000);
        }
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

async function stopBox(child: ReturnType<typeof startBoxProcess>): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function realistic(): Promise<{ quiet: Phase | null; storm: Phase | null }> {
  if (QUIET_S <= 0 && STORM_S <= 0) return { quiet: null, storm: null };
  const dir = join(root, 'realistic');
  const site = await realisticSite(dir);
  ageLog(site.dbPath, [...site.devices.keys(), ...Array.from({ length: SMOKE }, (_, i) => `sm${i}`)]);
  const box = startBoxProcess(site.configPath, openSync(join(dir, 'box.log'), 'w'));
  try {
    await listening(site.mqttPort);
    await site.startField();
    console.log(`realistic site: box pid ${box.pid}, warming up ${WARMUP_S} s`);
    await sleep(WARMUP_S * 1000);
    let quiet: Phase | null = null;
    let storm: Phase | null = null;
    if (QUIET_S > 0) {
      quiet = await measure(box.pid!, site.dbPath, QUIET_S);
      console.log(`quiet ${QUIET_S} s: ${quiet.mb_per_h} MB/h written (log grew ${quiet.db_growth_mb_per_h} MB/h, WAL at most ${quiet.wal_max_mb} MB); ${quiet.commits_per_h} commits/h, ${quiet.wal_frames_per_h} WAL frames/h: ${JSON.stringify(quiet.frames_by_table)}`);
    }
    if (STORM_S > 0) {
      site.storm(true);
      storm = await measure(box.pid!, site.dbPath, STORM_S);
      site.storm(false);
      console.log(`storm ${STORM_S} s: ${storm.mb_per_h} MB/h written (log grew ${storm.db_growth_mb_per_h} MB/h, WAL at most ${storm.wal_max_mb} MB); ${storm.commits_per_h} commits/h, ${storm.wal_frames_per_h} WAL frames/h: ${JSON.stringify(storm.frames_by_table)}`);
    }
    return { quiet, storm };
  } finally {
    await site.stopField();
    await stopBox(box);
    await site.stop();
  }
}

async function full(): Promise<Phase | null> {
  if (FULL_S <= 0) return null;
  const dir = join(root, 'full');
  const township = await startMosquitto({ accounts: [{ username: 'full', password: 'pw-full' }], acl: ['user full', 'topic readwrite sb/v1/full/#', 'topic read sb/v1/cap/#'], extra: ['max_inflight_messages 64', 'max_queued_messages 0'] });
  const port = await freePort();
  const sensors: string[] = [];
  const accounts: string[] = [];
  for (let i = 0; i < FULL_SENSORS; i++) {
    sensors.push(`  - { id: rg${i}, kind: rain }`);
    accounts.push(`    - { username: rg${i}, role: device, secret_hash: '${await hashSecret(`pw-rg${i}-secret`, BENCH_SCRYPT)}' }`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'uplink.pw'), 'pw-full');
  const dbPath = join(dir, 'full.db');
  const yaml = `
site: { id: full, name: 千点 }
sensors:
${sensors.join('\n')}
mqtt:
  host: 127.0.0.1
  port: ${port}
  ws_port: 0
  accounts:
${accounts.join('\n')}
uplink: { url: 'mqtt://127.0.0.1:${township.port}', username: full, password_file: '${join(dir, 'uplink.pw')}' }
store: { path: '${dbPath}' }
`;
  const { problems } = parseConfig(yaml);
  if (problems.length) throw new Error(JSON.stringify(problems));
  writeFileSync(join(dir, 'site.yaml'), yaml);
  ageLog(dbPath, Array.from({ length: FULL_SENSORS }, (_, i) => `rg${i}`));
  const box = startBoxProcess(join(dir, 'site.yaml'), openSync(join(dir, 'box.log'), 'w'));
  let load: ReturnType<typeof spawn> | null = null;
  try {
    await listening(port);
    load = spawn(process.execPath, ['--import', 'tsx', LOAD, `mqtt://127.0.0.1:${port}`, 'full', String(FULL_SENSORS), '1', String(WARMUP_S + FULL_S + 30)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const gen = load;
    await new Promise<void>((resolve, reject) => {
      gen.stdout!.setEncoding('utf8').on('data', (s: string) => s.includes('"connected"') && resolve());
      gen.once('exit', (code) => reject(new Error(`load generator exited ${code} before connecting`)));
    });
    console.log(`full site: ${FULL_SENSORS} sensors at 1 Hz connected; warming up ${WARMUP_S} s`);
    await sleep(WARMUP_S * 1000);
    const phase = await measure(box.pid!, dbPath, FULL_S);
    console.log(`full ${FULL_S} s: ${phase.mb_per_h} MB/h written (log grew ${phase.db_growth_mb_per_h} MB/h, WAL at most ${phase.wal_max_mb} MB); ${phase.commits_per_h} commits/h, ${phase.wal_frames_per_h} WAL frames/h: ${JSON.stringify(phase.frames_by_table)}`);
    return phase;
  } finally {
    load?.kill('SIGKILL');
    await stopBox(box);
    await township.stop();
  }
}

const BUDGET_MB_PER_H = 100;
try {
  const { quiet, storm } = await realistic();
  const fullPhase = await full();
  const realisticMb = quiet && storm ? round((3 * quiet.mb_per_h + storm.mb_per_h) / 4) : (quiet ?? storm)?.mb_per_h ?? null;
  console.log(
    JSON.stringify({
      realistic_mb_per_h: realisticMb,
      quiet_mb_per_h: quiet?.mb_per_h ?? null,
      storm_mb_per_h: storm?.mb_per_h ?? null,
      full_mb_per_h: fullPhase?.mb_per_h ?? null,
      budget_mb_per_h: BUDGET_MB_PER_H,
      within_budget: realisticMb !== null && realisticMb <= BUDGET_MB_PER_H,
      quiet_db_growth_mb_per_h: quiet?.db_growth_mb_per_h ?? null,
      storm_db_growth_mb_per_h: storm?.db_growth_mb_per_h ?? null,
      full_db_growth_mb_per_h: fullPhase?.db_growth_mb_per_h ?? null,
      quiet_wal_max_mb: quiet?.wal_max_mb ?? null,
      full_wal_max_mb: fullPhase?.wal_max_mb ?? null,
      quiet_s: QUIET_S,
      storm_s: STORM_S,
      full_s: FULL_S,
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
process.exit(0);
