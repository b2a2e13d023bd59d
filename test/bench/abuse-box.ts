/**
 * The box the abuse benchmark attacks: the compiled box in its own process (box-process.ts),
 * one fresh box per attack so each attack's peak RSS is its own and a crash in one attack does
 * not spoil the next. The site has the accounts the attacks need:
 *
 * | account  | role     | scrypt    | used by |
 * |----------|----------|-----------|---------|
 * | gauge    | device   | real cost | the legitimate device; the brute-force and lockout target |
 * | storm    | device   | real cost | the 1,000 authenticated connects |
 * | probe    | device   | bench     | the alarm probe (water level, `historical_max` 5 m = red) |
 * | siren1   | device   | bench     | the simulated relay client (MQTT), or a Modbus relay |
 * | wang     | officer  | bench     | the frozen officer client |
 * | obs      | observer | bench     | the 1,000 held observer connections |
 * | flood    | device   | bench     | the flooding device (1 KB status messages) |
 * | sm1      | device   | bench     | the flapping smoke detector |
 *
 * The brute-force and lockout figures depend on the cost of one scrypt check, so those accounts
 * use the box's real default cost (N = 2^14, r = 8, p = 1); the rest use box-process.ts'
 * BENCH_SCRYPT so a thousand observer logins take seconds, not minutes.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../gateway/config/load.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';
import { rawConnect, rawEnd } from './abuse-mqtt.ts';
import { BENCH_SCRYPT, rssMb, startBoxProcess } from './box-process.ts';

export const SITE = 'abuse';
export const secretOf = (user: string): string => `pw-${user}-secret`;
const REAL_COST = ['gauge', 'storm'];
const BENCH_COST = ['probe', 'siren1', 'wang', 'obs', 'flood', 'sm1'];

let hashes: Map<string, string> | null = null;
/** The accounts' hashes, made once per run (the real-cost ones take a while). */
async function accountHashes(): Promise<Map<string, string>> {
  if (hashes) return hashes;
  const m = new Map<string, string>();
  for (const u of REAL_COST) m.set(u, await hashSecret(secretOf(u)));
  for (const u of BENCH_COST) m.set(u, await hashSecret(secretOf(u), BENCH_SCRYPT));
  hashes = m;
  return m;
}

export interface ModbusSite {
  /** The simulator's Modbus TCP port. */
  port: number;
  /** Unit ids: the healthy QDY30A probe, the unit that never answers, the R421A08 relay. */
  healthyUnit: number;
  deadUnit: number;
  relayUnit: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function siteYaml(port: number, storePath: string, modbus: ModbusSite | null): Promise<string> {
  const h = await accountHashes();
  const acct = (u: string, role: string): string => `    - { username: ${u}, role: ${role}, secret_hash: '${h.get(u)}' }`;
  const bus = modbus ? `buses: [{ id: net1, type: tcp, host: 127.0.0.1, port: ${modbus.port} }]\n` : '';
  const modbusSensors = modbus
    ? `
  - { id: wl_ok, kind: water_level, stages: { warning: 2.5 }, modbus: { bus: net1, unit: ${modbus.healthyUnit}, profile: qdy30a, poll_s: 1 } }
  - { id: wl_dead, kind: water_level, stages: { warning: 2.5 }, modbus: { bus: net1, unit: ${modbus.deadUnit}, profile: qdy30a, poll_s: 1 } }`
    : '';
  const siren = modbus ? `, modbus: { bus: net1, unit: ${modbus.relayUnit}, profile: r421a08-relay }` : '';
  return `
site: { id: ${SITE}, name: 压测 }
${bus}sensors:
  - { id: gauge, kind: rain }
  - { id: storm, kind: rain }
  - { id: flood, kind: rain }
  - { id: probe, kind: water_level, stages: { historical_max: 5 }, raise_after_s: 0, clear_after_s: 0, hysteresis_m: 0 }
  - { id: sm1, kind: smoke, zone: z1 }${modbusSensors}
actuators: [{ id: siren1, kind: siren, zones: [site]${siren} }]
actions: { all_clear_pattern: null }
mqtt:
  host: 127.0.0.1
  port: ${port}
  ws_port: 0
  max_payload_bytes: 1024
  accounts:
${acct('gauge', 'device')}
${acct('storm', 'device')}
${acct('probe', 'device')}
${acct('siren1', 'device')}
${acct('wang', 'officer')}
${acct('obs', 'observer')}
${acct('flood', 'device')}
${acct('sm1', 'device')}
store: { path: '${storePath}' }
`;
}

export interface AbuseBox {
  port: number;
  pid: number;
  dir: string;
  dbPath: string;
  logPath: string;
  /** Set once the process has exited by itself (a crash is a result). */
  exit: { code: number | null; signal: string | null; at: number } | null;
  rss(): { peak: number; now: number } | null;
  /** The last lines of the box's log that say why it died (fatal/error lines, or the tail). */
  crashReason(): string;
  logLines(): number;
  /** The log's lines from line `n` on. */
  logLinesFrom(n: number): string[];
  stop(): Promise<void>;
}

let built = false;

/** Builds dist/ once per run (unless BENCH_SKIP_BUILD), then starts a fresh box and waits until it takes a login. */
export async function startAbuseBox(modbus: ModbusSite | null = null): Promise<AbuseBox> {
  if (!built && !process.env.BENCH_SKIP_BUILD) spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  built = true;
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'sb-abuse-'));
  const port = await freePort();
  const dbPath = join(dir, 'box.db');
  const yaml = await siteYaml(port, dbPath, modbus);
  const { problems } = parseConfig(yaml);
  if (problems.length) throw new Error(JSON.stringify(problems));
  writeFileSync(join(dir, 'box.yaml'), yaml);
  const logPath = join(dir, 'box.log');
  const prev = process.env.BENCH_SKIP_BUILD;
  process.env.BENCH_SKIP_BUILD = '1'; // built above, once
  const proc: ChildProcess = startBoxProcess(join(dir, 'box.yaml'), openSync(logPath, 'w'));
  if (prev === undefined) delete process.env.BENCH_SKIP_BUILD;
  const box: AbuseBox = {
    port,
    pid: proc.pid!,
    dir,
    dbPath,
    logPath,
    exit: null,
    rss: () => (box.exit ? null : rssMb(proc.pid!)),
    crashReason: () => {
      const lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean);
      const bad = lines.filter((l) => /RangeError|Error:|"level":(50|60)|FATAL/.test(l)).slice(-3);
      return (bad.length ? bad : lines.slice(-3)).map((l) => l.slice(0, 300)).join('\n');
    },
    logLines: () => readFileSync(logPath, 'utf8').split('\n').filter(Boolean).length,
    logLinesFrom: (n) => readFileSync(logPath, 'utf8').split('\n').filter(Boolean).slice(n),
    stop: async () => {
      if (box.exit) return;
      proc.kill('SIGTERM');
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  proc.once('exit', (code, signal) => (box.exit = { code, signal, at: performance.now() }));
  // Up when it takes a login (the compiled box starts in a second or two; a loaded machine, longer).
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (box.exit) throw new Error(`the box exited at start: ${box.crashReason()}`);
    const r = await rawConnect({ port, username: 'probe', password: secretOf('probe'), clientId: 'ready', timeoutMs: 2000 });
    if (r.socket) {
      await rawEnd(r.socket);
      return box;
    }
    if (Date.now() > deadline) {
      await box.stop();
      throw new Error('the box did not take a login within 60 s');
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}
