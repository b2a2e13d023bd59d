/**
 * The panel with browsers on it (issue 17): `shaobing start` in its own process (compiled, the
 * service unit's flags: box-process.ts) with SENSORS rain gauges × 1 Hz over MQTT (load-gen.ts,
 * its own process) and a river probe crossing its threshold every PROBE_MS (an alert raised or
 * cleared, with its siren effects: events in the log), measured twice:
 *
 * 1. without a panel: the box's RSS (VmRSS sampled every second, and VmHWM) and CPU;
 * 2. with the panel and PAGES headless Chromium pages (playwright-core, Debian's
 *    /usr/bin/chromium), each its own browser context and session, signed in and showing the
 *    real page (`/`, built by npm run build), which follows the live stream itself
 *    (BENCH_PAGE=stream: a blank page reading `EventSource('/api/live')` after a fetch sign-in).
 *    A script added before the page's own (TIMING) listens on the page's EventSource. For every
 *    probe transition each page receives: logged → received (the `logged` event's arrival) and
 *    logged → shown (the first `state` showing it, once the page has redrawn from it); both the
 *    page's time (performance.timeOrigin + now, epoch ms) minus the event's log time (`at_wall`
 *    of its row, the box's Date.now() at the append: whole ms, so a figure is at most 1 ms
 *    high). Same machine, same clock. Then the same RSS and CPU.
 *
 * `npm run bench -- panel [SENSORS] [SECONDS] [PAGES]` (1000, 60, 5). Ends with one JSON line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseConfig } from '../../gateway/config/load.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';
import { BENCH_SCRYPT, rssMb, startBoxProcess } from './box-process.ts';

const SENSORS = Number(process.argv[2] ?? 1000);
const SECONDS = Number(process.argv[3] ?? 60);
const PAGES = Number(process.argv[4] ?? 5);
const WARM_S = Number(process.env.PANEL_WARM_S ?? 10);
const PROBE_MS = Number(process.env.PANEL_PROBE_MS ?? 200);
/** The real page (h/page, built into build/panel/ by npm run build); BENCH_PAGE=stream: the stream alone. */
const REAL_PAGE = process.env.BENCH_PAGE !== 'stream';
const LOAD = fileURLToPath(new URL('./load-gen.ts', import.meta.url));
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'sb-panel-bench-'));

const round = (x: number, d = 2): number => Number(x.toFixed(d));
const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))]! : Number.NaN;
};
const median = (xs: readonly number[]): number => pct(xs, 0.5);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process in seconds (/proc/<pid>/stat, clock ticks of 1/100 s on Linux). */
function cpuS(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

let accounts: string | null = null;
async function siteYaml(boxPort: number, panelPort: number | null, db: string): Promise<string> {
  if (!accounts) {
    const lines: string[] = [];
    for (let i = 0; i < SENSORS; i++) lines.push(`    - { username: rg${i}, role: device, secret_hash: '${await hashSecret(`pw-rg${i}-secret`, BENCH_SCRYPT)}' }`);
    for (const u of ['probe', 'siren1']) lines.push(`    - { username: ${u}, role: device, secret_hash: '${await hashSecret(`pw-${u}-secret`, BENCH_SCRYPT)}' }`);
    lines.push(`    - { username: wang, role: officer, secret_hash: '${await hashSecret('pw-wang-secret', BENCH_SCRYPT)}' }`);
    accounts = lines.join('\n');
  }
  const sensors = Array.from({ length: SENSORS }, (_, i) => `  - { id: rg${i}, kind: rain }`).join('\n');
  const yaml = `
site: { id: bench, name: 压测, shelters: [{ id: hall, zh: 村委会, en: the hall }], routes: [{ id: road, zh: 大路, en: the road, shelter: hall }] }
sensors:
${sensors}
  - { id: probe, kind: water_level, stages: { guaranteed: 5 }, raise_after_s: 0, clear_after_s: 0, hysteresis_m: 0 }
actuators: [{ id: siren1, kind: siren, zones: [site] }]
# Orange is below the speaking level here: the probe's alerts sound the siren and log, and no
# speech piles up in a queue nobody reports done for.
actions: { all_clear_pattern: null, broadcast_min_level: red }
mqtt:
  host: 127.0.0.1
  port: ${boxPort}
  ws_port: 0
  max_payload_bytes: 1024
  accounts:
${accounts}
store: { path: '${db}' }
${panelPort === null ? '' : `panel: { host: 127.0.0.1, port: ${panelPort} }`}
`;
  const { problems } = parseConfig(yaml);
  if (problems.length) throw new Error(JSON.stringify(problems.slice(0, 3)));
  return yaml;
}

function runLoad(url: string, seconds: number, onConnected: () => void): Promise<{ published: number; seconds: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD, url, 'bench', String(SENSORS), '1', String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let last: any = null;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        last = JSON.parse(line);
        if (last.connected !== undefined) onConnected();
      }
    });
    child.on('exit', (code) => (code === 0 && last?.published !== undefined ? resolve(last) : reject(new Error(`load generator exited ${code}`))));
  });
}

async function connectRetry(url: string, username: string): Promise<MqttClient> {
  for (let i = 0; ; i++) {
    try {
      return await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 2000, username, password: `pw-${username}-secret`, clientId: `${username}-bench` });
    } catch (err) {
      if (i > 150) throw err;
      await sleep(200);
    }
  }
}

/**
 * Before any script of the page: every EventSource on /api/live gets two listeners of ours,
 * added in its constructor, so before the page's own. `logged`: for each probe transition, its
 * seq and the receipt time (received). `state`: the first state that shows it (a raised alert
 * in `alerts`, a cleared one gone), timed in a task after the state's listeners ran — the page
 * has redrawn from it by then (visible). Counts state events and their bytes.
 */
const TIMING = `(() => {
  const w = window;
  w.__got = []; w.__vis = []; w.__states = 0; w.__stateBytes = 0;
  const pending = new Map();
  const Orig = w.EventSource;
  class Timed extends Orig {
    constructor(url, init) {
      super(url, init);
      if (!String(url).includes('/api/live')) return;
      this.addEventListener('logged', (ev) => {
        const t = performance.timeOrigin + performance.now();
        const data = ev.data;
        if (!data.includes('"type":"transition"') || !data.includes('"alert":"probe/')) return;
        const e = JSON.parse(data);
        w.__got.push([e.seq, t]);
        pending.set(e.alert, { seq: e.seq, shown: e.transition !== 'cleared' });
      });
      this.addEventListener('state', (ev) => {
        w.__states++;
        w.__stateBytes += ev.data.length;
        const seen = [];
        for (const [id, p] of pending) {
          if (ev.data.includes('"alert":"' + id + '"') === p.shown) { seen.push(p.seq); pending.delete(id); }
        }
        if (seen.length) setTimeout(() => { const t = performance.timeOrigin + performance.now(); for (const q of seen) w.__vis.push([q, t]); }, 0);
      });
    }
  }
  w.EventSource = Timed;
})()`;

const SIGN_IN = `fetch('/api/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'wang', password: 'pw-wang-secret' }) }).then((r) => { if (!r.ok) throw new Error('sign-in ' + r.status); })`;

/**
 * One officer's browser. The real page: signed in (the page finds the session at load) and
 * loaded at `/`, following the stream itself. Without it (BENCH_PAGE=stream): a blank page of
 * the box's origin that signs in through fetch and opens EventSource('/api/live').
 */
async function attach(page: Page, base: string): Promise<void> {
  await page.addInitScript(TIMING);
  if (REAL_PAGE) {
    await page.goto(`${base}/`);
    await page.evaluate(SIGN_IN);
    await page.reload();
  } else {
    await page.goto(`${base}/api/session`);
    await page.evaluate(`${SIGN_IN}.then(() => { window.__es = new EventSource('/api/live'); })`);
  }
  // A function, not a string: the page's CSP forbids eval, which a string predicate needs.
  await page.waitForFunction(() => ((window as { __states?: number }).__states ?? 0) > 0, undefined, { timeout: 30_000 });
}

interface Phase {
  rssMb: number[];
  peakMb: number;
  cpuPct: number;
  published: number;
  latencies: number[];
  visible: number[];
  expected: number;
  received: number;
  states: number;
  stateBytes: number;
}

async function phase(withPanel: boolean, browser: Browser | null): Promise<Phase> {
  const boxPort = await freePort();
  const panelPort = withPanel ? await freePort() : null;
  const db = join(dir, `${withPanel ? 'panel' : 'plain'}.db`);
  const yamlFile = join(dir, `${withPanel ? 'panel' : 'plain'}.yaml`);
  writeFileSync(yamlFile, await siteYaml(boxPort, panelPort, db));
  const log = openSync(join(dir, `${withPanel ? 'panel' : 'plain'}.log`), 'w');
  const box = startBoxProcess(yamlFile, log);
  process.env.BENCH_SKIP_BUILD = '1'; // built once, for the first phase
  let exit: string | null = null;
  box.once('exit', (code, signal) => (exit = signal ? `signal ${signal}` : `exit code ${code}`));
  const kill = (): void => void (exit === null && box.kill('SIGKILL'));
  process.once('exit', kill);
  const url = `mqtt://127.0.0.1:${boxPort}`;
  const probe = await connectRetry(url, 'probe');
  const pages: Page[] = [];
  if (withPanel && browser) {
    const base = `http://127.0.0.1:${panelPort}`;
    let status = 0;
    for (let i = 0; i < 100; i++) {
      status = await fetch(`${base}/`).then((r) => r.status, () => 0);
      if (status && status !== 0) break;
      await sleep(200);
    }
    if (REAL_PAGE && status !== 200) throw new Error(`GET / answered ${status}: the page is not built (npm run build builds it; BENCH_PAGE=stream measures the stream alone)`);
    for (let i = 0; i < PAGES; i++) {
      const page = await (await browser.newContext()).newPage();
      await attach(page, base);
      pages.push(page);
    }
    console.log(`  ${PAGES} pages signed in and reading /api/live`);
  }
  let connected!: () => void;
  const ready = new Promise<void>((r) => (connected = r));
  const load = runLoad(url, WARM_S + SECONDS + 2, () => connected());
  await ready;
  console.log(`  ${SENSORS} sensors connected; ${WARM_S} s warm-up, then ${SECONDS} s measured`);
  let high = false;
  const toggle = setInterval(() => {
    high = !high;
    probe.publish('sb/v1/bench/sensor/probe/reading', JSON.stringify({ value: high ? 6 : 1, unit: 'm' }), { qos: 0 });
  }, PROBE_MS);
  await sleep(WARM_S * 1000);
  // Measured from here: what the pages received before is not counted.
  for (const p of pages) await p.evaluate('window.__got = []; window.__vis = []');
  const t0 = Date.now();
  const cpu0 = cpuS(box.pid!);
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssMb(box.pid!).now), 1000);
  await sleep(SECONDS * 1000);
  clearInterval(sampler);
  const cpuPct = ((cpuS(box.pid!) - cpu0) / ((Date.now() - t0) / 1000)) * 100;
  const t1 = Date.now();
  clearInterval(toggle);
  const peakMb = rssMb(box.pid!).peak;
  await sleep(1000); // the last events reach the pages
  const got: [number, number][] = [];
  const vis: [number, number][] = [];
  let states = 0;
  let stateBytes = 0;
  for (const p of pages) {
    const r = (await p.evaluate('({ got: window.__got, vis: window.__vis, states: window.__states, bytes: window.__stateBytes })')) as { got: [number, number][]; vis: [number, number][]; states: number; bytes: number };
    got.push(...r.got);
    vis.push(...r.vis);
    states += r.states;
    stateBytes += r.bytes;
    await p.context().close();
  }
  const published = (await load).published;
  probe.end(true);
  if (exit) throw new Error(`the box died: ${exit}`);
  // The log's own time of each probe transition of the measured span.
  const read = new Database(db, { readonly: true, fileMustExist: true });
  const rows = read.prepare(`SELECT seq, at_wall FROM events WHERE type = 'transition' AND at_wall >= ? AND at_wall < ? AND json_extract(payload, '$.alert') LIKE 'probe/%'`).all(t0, t1) as { seq: number; at_wall: number }[];
  read.close();
  const loggedAt = new Map(rows.map((r) => [r.seq, r.at_wall]));
  const latencies = got.filter(([seq]) => loggedAt.has(seq)).map(([seq, t]) => t - loggedAt.get(seq)!);
  const visible = vis.filter(([seq]) => loggedAt.has(seq)).map(([seq, t]) => t - loggedAt.get(seq)!);
  box.kill('SIGTERM');
  await Promise.race([new Promise((r) => box.once('exit', r)), sleep(15_000)]);
  kill();
  process.removeListener('exit', kill);
  return { rssMb: samples, peakMb, cpuPct, published, latencies, visible, expected: rows.length * pages.length, received: latencies.length, states, stateBytes };
}

if (spawnSync('/usr/bin/chromium', ['--version']).status !== 0) throw new Error('/usr/bin/chromium does not run: bash scripts/test-deps.sh installs it');
console.log(`panel bench: ${SENSORS} sensors × 1 Hz, probe every ${PROBE_MS} ms, ${SECONDS} s measured, ${PAGES} pages${REAL_PAGE ? ' (the real page)' : ' (EventSource after a fetch sign-in)'}; files in ${dir}`);
console.log('without the panel …');
const plain = await phase(false, null);
console.log(`  RSS median ${median(plain.rssMb)} MB, peak ${plain.peakMb} MB, CPU ${round(plain.cpuPct, 1)} %`);
console.log('with the panel and the pages …');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
let withPanel: Phase;
try {
  withPanel = await phase(true, browser);
} finally {
  await browser.close();
}
const lat = withPanel.latencies;
console.log(`  RSS median ${median(withPanel.rssMb)} MB, peak ${withPanel.peakMb} MB, CPU ${round(withPanel.cpuPct, 1)} %`);
const vis = withPanel.visible;
console.log(`  logged → browser: ${lat.length} receipts (${withPanel.expected} expected), p50 ${round(pct(lat, 0.5))} ms, p99 ${round(pct(lat, 0.99))} ms, max ${round(Math.max(...lat))} ms`);
console.log(`  logged → shown by the page (the state that shows it, redrawn): ${vis.length}, p50 ${round(pct(vis, 0.5))} ms, p99 ${round(pct(vis, 0.99))} ms, max ${round(Math.max(...vis))} ms`);
console.log(`  state events: ${withPanel.states} in all pages, ${round(withPanel.stateBytes / Math.max(1, withPanel.states) / 1024, 1)} KB each`);
console.log(
  JSON.stringify({
    sensors: SENSORS,
    pages: PAGES,
    seconds: SECONDS,
    real_page: REAL_PAGE,
    logged_to_browser_p50_ms: round(pct(lat, 0.5)),
    logged_to_browser_p99_ms: round(pct(lat, 0.99)),
    logged_to_browser_max_ms: round(Math.max(...lat)),
    logged_to_visible_p50_ms: round(pct(vis, 0.5)),
    logged_to_visible_p99_ms: round(pct(vis, 0.99)),
    browser_receipts: lat.length,
    browser_receipts_expected: withPanel.expected,
    panel_rss_delta_mb: round(median(withPanel.rssMb) - median(plain.rssMb), 1),
    panel_peak_rss_delta_mb: withPanel.peakMb - plain.peakMb,
    rss_without_panel_mb: median(plain.rssMb),
    rss_with_panel_mb: median(withPanel.rssMb),
    peak_rss_without_panel_mb: plain.peakMb,
    peak_rss_with_panel_mb: withPanel.peakMb,
    cpu_without_panel_pct: round(plain.cpuPct, 1),
    cpu_with_panel_pct: round(withPanel.cpuPct, 1),
    state_events_per_page_per_s: round(withPanel.states / PAGES / (SECONDS + WARM_S), 2),
    state_kb: round(withPanel.stateBytes / Math.max(1, withPanel.states) / 1024, 1),
    readings_published: withPanel.published,
  }),
);
