/**
 * Soak (issue 19): the compiled box (box-process.ts, as the systemd unit runs it) under the
 * realistic site (realistic-site.ts: 50 Modbus sensors every 10 s over TCP and an RS-485 pty, 10
 * smoke detectors, the township uplink) for MINUTES, with its log on a real ext4 filesystem (a
 * 256 MB loop device: the disk-full fault is a real ENOSPC), an alarm probe, and in every slice
 * the same faults at the same points:
 *
 *   10 %–30 %  a Modbus TCP unit vanishes (no answer), then comes back
 *   35 %–40 %  a CRC storm on the RS-485 line: every unit's replies corrupted
 *   45 %–65 %  the log's disk full (a ballast file), then freed; the box notices only when it
 *              needs a new block (its WAL is reused in place after each checkpoint), so a slice
 *              says whether its store degraded (`degraded`)
 *   70 %–80 %  the township broker stopped, then started again
 *
 * SIGHUP is not a fault to inject: the box stops on it by design (gateway/run.ts: a reload is a
 * restart, and the unit restarts it), so a soak of one process cannot include it.
 *
 * The probe: every PROBE_MS a water-level probe in its own zone goes over its red stage and, 3 s
 * later, back; the alarm latency is publish → the `siren` command at that zone's MQTT relay
 * (both clients in this process, one clock). Per slice (SLICE_MIN, default 10): RSS and open file
 * descriptors (sampled every 5 s: the slice's last and max), MB written per hour (/proc/PID/io
 * write_bytes), the main thread's event-loop delay p99 (eld-preload.mjs, reset at each slice by
 * SIGUSR2), alarm latency p50/p99/max and lost probes (no command within 10 s).
 *
 * Flat means, over the slices after the first (warm-up): RSS grows less than 5 MB (or 5 %) over
 * the run by a least-squares slope, open descriptors vary by at most 3, bytes written per hour
 * stay within twice their median, each p99 within twice its median or its median plus a floor
 * (alarm 10 ms, event loop 2 ms: with a probe every 10 s a slice's p99 is its worst few samples,
 * and this 2-core machine is shared), no probe is lost, the box is alive at the end.
 *
 * `npm run bench -- soak [MINUTES]` (default 60), `SLICE_MIN=1` for 1-minute slices. Needs root
 * (losetup, mount), socat and mosquitto.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillDisk, mountExt4 } from '../helpers/store-rig.ts';
import { startBoxProcess } from './box-process.ts';
import { openFds, round, rssNowMb, writeBytes, MB } from './proc-stats.ts';
import { realisticSite, TCP_UNITS } from './realistic-site.ts';

const MINUTES = Number(process.argv[2] ?? 60);
const SLICE_MIN = Number(process.env.SLICE_MIN ?? 10);
const SLICE_MS = SLICE_MIN * 60_000;
const SLICES = Math.max(1, Math.round(MINUTES / SLICE_MIN));
const PROBE_MS = Number(process.env.SOAK_PROBE_MS ?? 10_000);
const LOST_MS = 10_000;
const PRELOAD = fileURLToPath(new URL('./eld-preload.mjs', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))]! : Number.NaN;
};

const root = mkdtempSync(join(tmpdir(), 'sb-soak-'));
const disk = mountExt4(256);
if (!disk) throw new Error('soak: no ext4 loop device (run as root, with losetup and mkfs.ext4)');
const eldFile = join(root, 'eld.jsonl');
process.env.SB_ELD_FILE = eldFile;
const site = await realisticSite(join(root, 'site'), { storeDir: disk.dir, probe: true });
const box = startBoxProcess(site.configPath, openSync(join(root, 'box.log'), 'w'), ['--import', PRELOAD]);
const pid = box.pid!;

interface Slice {
  rss_mb: number;
  rss_max_mb: number;
  fds: number;
  fds_max: number;
  mb_per_h: number;
  eld_p99_ms: number;
  eld_max_ms: number;
  /** The JS heap after a full collection at the slice's end (eld-preload.mjs), and external memory. */
  heap_mb: number;
  external_mb: number;
  alarm_p50_ms: number;
  alarm_p99_ms: number;
  alarm_max_ms: number;
  /** When in the slice (0–1) the slowest probe was sent, and the fault it met. */
  alarm_max_at: number | null;
  alarm_max_fault: string | null;
  /** Seconds whose worst event-loop delay passed 20 ms, by the fault they fell in. */
  stalls: Record<string, number>;
  probes: number;
  lost: number;
  errors_logged: number;
  /** Whether the store degraded (disk full) in this slice. */
  degraded: boolean;
}

/** One probe: over the red stage, time to the siren command at siren2; back under 3 s later. */
async function probeOnce(): Promise<number | null> {
  const sim = site.probeSiren!;
  const before = sim.received.length;
  const t0 = Date.now();
  await site.probe!.publish(6);
  const end = t0 + LOST_MS;
  let ms: number | null = null;
  while (Date.now() < end) {
    const got = sim.received.slice(before).find((r) => r.command.type === 'siren');
    if (got) {
      ms = got.at - t0;
      break;
    }
    await sleep(5);
  }
  await sleep(3000);
  await site.probe!.publish(1);
  return ms;
}

/** Seconds whose worst event-loop delay passed 20 ms, between two wall times, by the fault they fell in. */
function stallsBetween(from: number, to: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (!existsSync(`${eldFile}.stalls`)) return out;
  for (const line of readFileSync(`${eldFile}.stalls`, 'utf8').trim().split('\n')) {
    const s = JSON.parse(line) as { at: number; max_ms: number };
    if (s.at < from || s.at > to) continue;
    const f = faultAt(s.at);
    out[f] = (out[f] ?? 0) + 1;
  }
  return out;
}

/** Error lines the box logged so far, and their distinct messages. */
function errorsLogged(): { n: number; msgs: string[]; degradations: number } {
  const msgs = new Map<string, number>();
  let n = 0;
  let degradations = 0;
  for (const line of readFileSync(join(root, 'box.log'), 'utf8').split('\n')) {
    if (!line.includes('"level":50') && !line.includes('"level":60')) continue;
    n++;
    const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? '?';
    msgs.set(msg, (msgs.get(msg) ?? 0) + 1);
    if (msg.startsWith('store degraded')) degradations++;
  }
  return { n, msgs: [...msgs].map(([m, k]) => `${k}× ${m}`), degradations };
}

const ballast = join(disk.dir, 'ballast');
function fillLogDisk(): void {
  const s = statfsSync(disk!.dir);
  const free = s.bavail * s.bsize;
  if (free > 1 << 20) execFileSync('fallocate', ['-l', String(free - (1 << 20)), ballast]);
  fillDisk(`${ballast}-tail`);
}
function freeLogDisk(): void {
  rmSync(ballast, { force: true });
  rmSync(`${ballast}-tail`, { force: true });
}

/** The fault windows so far, [name, from, to] in wall ms: a stall or a slow probe is put in the one it fell in. */
const windows: [string, number, number][] = [];
const FAULTS: [string, number, number][] = [
  ['unit_vanished', 0.1, 0.3],
  ['crc_storm', 0.35, 0.4],
  ['disk_full', 0.45, 0.65],
  ['township_down', 0.7, 0.8],
];
function faultAt(t: number): string {
  // A fault's after-effects (a reconnect, a catch-up) count with it for 30 s after it ends.
  const w = windows.find(([, from, to]) => t >= from && t <= to + 30_000);
  return w ? w[0] : 'none';
}

/** The faults of one slice, at their fractions of it (see the header). */
async function faults(sliceStart: number): Promise<void> {
  for (const [name, from, to] of FAULTS) windows.push([name, sliceStart + from * SLICE_MS, sliceStart + to * SLICE_MS]);
  const at = async (f: number): Promise<void> => {
    const wait = sliceStart + f * SLICE_MS - Date.now();
    if (wait > 0) await sleep(wait);
  };
  const vanishing = site.tcp.device(Math.ceil(TCP_UNITS / 2));
  await at(0.1);
  vanishing.fault({ kind: 'disappear' });
  await at(0.3);
  vanishing.restore();
  await at(0.35);
  for (const d of site.rtu.devices()) d.fault({ kind: 'bad_crc' });
  await at(0.4);
  for (const d of site.rtu.devices()) d.restore();
  await at(0.45);
  fillLogDisk();
  await at(0.65);
  freeLogDisk();
  await at(0.7);
  await site.township.stop();
  await at(0.8);
  await site.township.restart();
}

async function listening(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (const end = Date.now() + 60_000; Date.now() < end; await sleep(200)) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
  }
  throw new Error('the box did not listen within 60 s');
}

const slices: Slice[] = [];
try {
  await listening(site.mqttPort);
  await site.startField();
  console.log(`soak: box pid ${pid}, ${SLICES} slices of ${SLICE_MIN} min, log on ${disk.dir} (ext4, 256 MB)`);
  await sleep(20_000);
  process.kill(pid, 'SIGUSR2'); // the first slice's event-loop figures start here
  for (let k = 0; k < SLICES; k++) {
    const start = Date.now();
    const w0 = writeBytes(pid);
    const degradationsBefore = errorsLogged().degradations;
    let rssMax = 0;
    let fdsMax = 0;
    const latencies: number[] = [];
    let worst: { ms: number; at: number; fault: string } | null = null;
    let lost = 0;
    let probing = true;
    const faultRun = faults(start);
    const probes = (async () => {
      while (probing) {
        const t = Date.now();
        const ms = await probeOnce();
        if (ms === null) lost++;
        else latencies.push(ms);
        if (ms !== null && (!worst || ms > worst.ms)) worst = { ms, at: (t - start) / SLICE_MS, fault: faultAt(t) };
        await sleep(Math.max(0, PROBE_MS - (Date.now() - t)));
      }
    })();
    while (Date.now() - start < SLICE_MS) {
      await sleep(5000);
      if (box.exitCode !== null) throw new Error(`the box exited (${box.exitCode ?? box.signalCode}) in slice ${k + 1}`);
      rssMax = Math.max(rssMax, rssNowMb(pid));
      fdsMax = Math.max(fdsMax, openFds(pid));
    }
    probing = false;
    await faultRun;
    await probes;
    const hours = (Date.now() - start) / 3_600_000;
    const before = existsSync(eldFile) ? readFileSync(eldFile, 'utf8').trim().split('\n').length : 0;
    process.kill(pid, 'SIGUSR2');
    for (let i = 0; i < 100 && (existsSync(eldFile) ? readFileSync(eldFile, 'utf8').trim().split('\n').length : 0) <= before; i++) await sleep(20);
    const eld = JSON.parse(readFileSync(eldFile, 'utf8').trim().split('\n').at(-1)!) as { p99_ms: number; max_ms: number; heap_mb: number; external_mb: number };
    const s: Slice = {
      rss_mb: round(rssNowMb(pid), 1),
      rss_max_mb: round(rssMax, 1),
      fds: openFds(pid),
      fds_max: fdsMax,
      mb_per_h: round((writeBytes(pid) - w0) / MB / hours),
      eld_p99_ms: eld.p99_ms,
      eld_max_ms: eld.max_ms,
      heap_mb: eld.heap_mb,
      external_mb: eld.external_mb,
      alarm_p50_ms: pct(latencies, 0.5),
      alarm_p99_ms: pct(latencies, 0.99),
      alarm_max_ms: latencies.length ? Math.max(...latencies) : Number.NaN,
      alarm_max_at: worst ? round((worst as { at: number }).at, 2) : null,
      alarm_max_fault: worst ? (worst as { fault: string }).fault : null,
      stalls: stallsBetween(start, Date.now()),
      probes: latencies.length + lost,
      lost,
      errors_logged: errorsLogged().n,
      degraded: errorsLogged().degradations > degradationsBefore,
    };
    slices.push(s);
    console.log(`slice ${k + 1}/${SLICES}: RSS ${s.rss_mb} MB (max ${s.rss_max_mb}), heap after GC ${s.heap_mb} MB (external ${s.external_mb}), fds ${s.fds} (max ${s.fds_max}), ${s.mb_per_h} MB/h written, event loop p99 ${s.eld_p99_ms} ms (max ${s.eld_max_ms}), alarm p50/p99/max ${s.alarm_p50_ms}/${s.alarm_p99_ms}/${s.alarm_max_ms} ms (max at ${s.alarm_max_at} of the slice, ${s.alarm_max_fault}) over ${s.probes} probes, ${s.lost} lost; event-loop stalls over 20 ms by fault ${JSON.stringify(s.stalls)}; ${s.errors_logged} error lines so far${s.degraded ? '; the store degraded on the full disk and recovered' : '; the full disk was not noticed (the WAL had room)'}`);
  }
} finally {
  await site.stopField();
  const alive = box.exitCode === null;
  if (alive) {
    const exited = new Promise((r) => box.once('exit', r));
    box.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    if (box.exitCode === null) box.kill('SIGKILL');
  }
  await site.stop();
  freeLogDisk();
  disk.destroy();
  const flat = flatness(slices, alive);
  console.log(
    JSON.stringify({
      minutes: MINUTES,
      slice_min: SLICE_MIN,
      slices: slices.length,
      rss_mb: slices.map((s) => s.rss_mb),
      rss_max_mb: slices.map((s) => s.rss_max_mb),
      heap_mb: slices.map((s) => s.heap_mb),
      external_mb: slices.map((s) => s.external_mb),
      fds: slices.map((s) => s.fds),
      mb_per_h: slices.map((s) => s.mb_per_h),
      eld_p99_ms: slices.map((s) => s.eld_p99_ms),
      eld_max_ms: slices.map((s) => s.eld_max_ms),
      alarm_p50_ms: slices.map((s) => s.alarm_p50_ms),
      alarm_p99_ms: slices.map((s) => s.alarm_p99_ms),
      alarm_max_ms: slices.map((s) => s.alarm_max_ms),
      lost_probes: slices.map((s) => s.lost),
      store_degraded: slices.map((s) => s.degraded),
      errors_logged: slices.at(-1)?.errors_logged ?? null,
      error_messages: errorsLogged().msgs.slice(0, 8),
      alarm_max_at: slices.map((s) => s.alarm_max_at),
      alarm_max_fault: slices.map((s) => s.alarm_max_fault),
      stalls_by_fault: slices.map((s) => s.stalls),
      box_alive_at_end: alive,
      ...flat,
    }),
  );
  rmSync(root, { recursive: true, force: true });
}

/** The flatness figures of the header's definition, over the slices after the first. */
function flatness(all: Slice[], alive: boolean): Record<string, number | boolean | null> {
  const xs = all.length > 1 ? all.slice(1) : all;
  if (!xs.length) return { flat: false };
  const hours = xs.map((_, i) => (i * SLICE_MIN) / 60);
  const slope = (ys: number[]): number => {
    const n = ys.length;
    if (n < 2) return 0;
    const mx = hours.reduce((a, b) => a + b, 0) / n;
    const my = ys.reduce((a, b) => a + b, 0) / n;
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) (num += (hours[i]! - mx) * (ys[i]! - my)), (den += (hours[i]! - mx) ** 2);
    return den ? num / den : 0;
  };
  const median = (ys: number[]): number => pct(ys, 0.5);
  const within2x = (ys: number[], floor = 0): boolean => {
    const m = median(ys.filter(Number.isFinite));
    return ys.every((y) => !Number.isFinite(y) || y <= Math.max(2 * m, m + floor));
  };
  const rss = xs.map((s) => s.rss_mb);
  const runH = (xs.length * SLICE_MIN) / 60;
  const rssGrowth = slope(rss) * runH;
  const rssFlat = rssGrowth <= Math.max(5, 0.05 * median(rss));
  const heap = xs.map((s) => s.heap_mb);
  const heapGrowth = slope(heap) * runH;
  const fds = xs.map((s) => s.fds);
  const fdsFlat = Math.max(...fds) - Math.min(...fds) <= 3;
  const writesFlat = within2x(xs.map((s) => s.mb_per_h));
  const eldFlat = within2x(xs.map((s) => s.eld_p99_ms), 2);
  const alarmFlat = within2x(xs.map((s) => s.alarm_p99_ms), 10);
  const lost = all.reduce((n, s) => n + s.lost, 0);
  return {
    rss_slope_mb_per_h: round(slope(rss), 2),
    rss_growth_over_run_mb: round(rssGrowth, 2),
    heap_slope_mb_per_h: round(slope(heap), 2),
    heap_growth_over_run_mb: round(heapGrowth, 2),
    fds_range: Math.max(...fds) - Math.min(...fds),
    mb_per_h_median: median(xs.map((s) => s.mb_per_h)),
    eld_p99_median_ms: median(xs.map((s) => s.eld_p99_ms)),
    alarm_p99_median_ms: median(xs.map((s) => s.alarm_p99_ms)),
    rss_flat: rssFlat,
    fds_flat: fdsFlat,
    writes_flat: writesFlat,
    eld_flat: eldFlat,
    alarm_flat: alarmFlat,
    lost_probes_total: lost,
    flat: rssFlat && fdsFlat && writesFlat && eldFlat && alarmFlat && lost === 0 && alive,
  };
}
process.exit(0);
