/**
 * One function per attack of the abuse benchmark (issue 15). Each starts a fresh compiled box,
 * runs its attack from a child process (abuse-attacks.ts) while alarm probes and the
 * legitimate device measure the box from outside (abuse-probe.ts), and returns the lines to
 * print and its figures (snake_case, units in the key). A box that dies is a result: the
 * figures say `<name>_crashed` with the reason, and the next attack gets a new box.
 *
 * Sizes are the issue's; ABUSE_SHORT=1 shrinks durations and counts for a quick look on a
 * loaded machine (the figures are then not the issue's).
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import Database from 'better-sqlite3';
import { SimulatedBus } from '../../simulators/modbus/bus.ts';
import { profiles } from '../helpers/box-modbus-rig.ts';
import { secretOf, startAbuseBox, type AbuseBox, type ModbusSite } from './abuse-box.ts';
import { startAttacker } from './abuse-attacker.ts';
import type { AttackSpec } from './abuse-attacks.ts';
import { connectLegit, reconnectLegit, rssSampler, startProbes, type ConnectTime, type LatencyStats, type ProbeOptions } from './abuse-probe.ts';

export type Figures = Record<string, number | boolean | string | null>;
export interface Outcome {
  lines: string[];
  figures: Figures;
}

const SHORT = process.env.ABUSE_SHORT === '1';
const sec = (full: number, short: number): number => (SHORT ? short : full) * 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const addrs = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `127.0.0.${from + i}`);
const PROBES: ProbeOptions = { gapMs: 500, timeoutMs: 10_000 };
/** How long the legitimate device keeps trying before the figure says it never got in. */
const LEGIT_BOUND_MS = Number(process.env.ABUSE_LEGIT_BOUND_S ?? 75) * 1000;

const fmtLat = (l: LatencyStats): string =>
  `alarm (reading → siren at the relay): p50 ${l.p50_ms} ms, p99 ${l.p99_ms} ms, max ${l.max_ms} ms over ${l.samples} probes${l.missed ? `, ${l.missed} MISSED (no siren within ${PROBES.timeoutMs / 1000} s)` : ''}`;
const fmtConnect = (c: ConnectTime): string =>
  c.ms === null ? `legitimate device: NOT connected within ${c.boundMs / 1000} s (${c.attempts} attempts, refused ${JSON.stringify(c.refusals)})` : `legitimate device reconnect: ${c.ms} ms (${c.attempts} attempt${c.attempts > 1 ? 's' : ''}${c.attempts > 1 ? `, refused ${JSON.stringify(c.refusals)}` : ''})`;

interface Run {
  box: AbuseBox;
  /** The device's connection made before the attack; its socket dies at the "power blip". */
  legitSocket: Socket | null;
  legit: ConnectTime | null;
}

/**
 * The frame every attack shares: a fresh box, the legitimate device connected, probes
 * running; `attack` runs, then the figures common to all (alarm latency, RSS, crash) are added.
 */
async function underAttack(name: string, opts: { modbus?: ModbusSite; probes?: Partial<ProbeOptions>; legit?: boolean }, attack: (run: Run) => Promise<Outcome>): Promise<Outcome> {
  const box = await startAbuseBox(opts.modbus ?? null);
  const rss = rssSampler(box);
  const run: Run = { box, legitSocket: null, legit: null };
  try {
    run.legitSocket = opts.legit === false ? null : await connectLegit(box);
    const probes = await startProbes(box, { ...PROBES, ...opts.probes });
    const t0 = performance.now();
    const out = await attack(run);
    run.legitSocket?.destroy();
    const lat = await probes.stop();
    const r = rss.last();
    const crashed = box.exit ? box.crashReason() : null;
    const lines = [...out.lines, fmtLat(lat), ...(run.legit ? [fmtConnect(run.legit)] : []), `box RSS: peak ${r?.peak ?? '?'} MB, now ${r?.now ?? '?'} MB`];
    const crashedAfterS = box.exit ? Math.round((box.exit.at - t0) / 100) / 10 : null;
    if (crashed) lines.push(`BOX CRASHED ${crashedAfterS} s into the attack (exit code ${box.exit!.code}, signal ${box.exit!.signal}): ${crashed}`);
    const figures: Figures = {
      ...out.figures,
      [`${name}_relay_p50_ms`]: lat.p50_ms,
      [`${name}_relay_p99_ms`]: lat.p99_ms,
      [`${name}_relay_max_ms`]: lat.max_ms,
      [`${name}_probes_missed`]: lat.missed,
      ...(run.legit ? { [`${name}_device_connect_ms`]: run.legit.ms } : {}),
      [`${name}_rss_peak_mb`]: r?.peak ?? null,
      [`${name}_rss_now_mb`]: r?.now ?? null,
      [`${name}_crashed`]: crashed !== null,
      ...(crashed ? { [`${name}_crashed_after_s`]: crashedAfterS } : {}),
    };
    return { lines, figures };
  } finally {
    rss.stop();
    await box.stop();
  }
}

/** The legitimate device's socket dies `afterMs` into the attack and it reconnects. */
const legitDuring = (run: Run, afterMs: number, boundMs = LEGIT_BOUND_MS): Promise<void> =>
  sleep(afterMs).then(async () => void (run.legit = await reconnectLegit(run.box, run.legitSocket, boundMs)));

const perS = (n: number | undefined, s: number): number => Math.round(((n ?? 0) / s) * 10) / 10;
const refusedUnchecked = (codes: Record<string, number>): number => (codes['3'] ?? 0) + (codes['5'] ?? 0);

export const ATTACKS: Record<string, () => Promise<Outcome>> = {
  /** No attack: what the probes and the device see on an idle box, to read the others against. */
  baseline: () =>
    underAttack('baseline', {}, async (run) => {
      await sleep(sec(8, 4));
      run.legit = await reconnectLegit(run.box, run.legitSocket, LEGIT_BOUND_MS);
      await sleep(1000);
      return { lines: ['baseline: no attack'], figures: {} };
    }),

  /** 100 parallel wrong secrets from one address, then guessing from it for a while. */
  bruteforce_one: () =>
    underAttack('bruteforce_one', {}, async (run) => {
      const port = run.box.port;
      const one = ['127.0.0.9'];
      const burst = await startAttacker([{ kind: 'guesses', port, user: 'gauge', addresses: one, concurrency: 100, total: 100 }], 120_000).done;
      const b = burst[0] as { codes: Record<string, number>; seconds: number };
      const ms = sec(20, 6);
      const a = startAttacker([{ kind: 'guesses', port, user: 'gauge', addresses: one, concurrency: 10, durationMs: ms }], ms + 60_000);
      await a.ready;
      const legit = legitDuring(run, 1000);
      const g = (await a.done)[0] as { codes: Record<string, number>; seconds: number; sent: number };
      await legit;
      return {
        lines: [
          `brute force, one address (127.0.0.9 → gauge, real scrypt cost): burst of 100 parallel: ${b.codes['4'] ?? 0} checked (CONNACK 4), ${refusedUnchecked(b.codes)} refused unchecked (3/5) in ${b.seconds.toFixed(2)} s ${JSON.stringify(b.codes)}`,
          `  then ${g.seconds.toFixed(1)} s at 10 in flight: ${perS(g.codes['4'], g.seconds)} guesses/s checked, ${perS(refusedUnchecked(g.codes), g.seconds)}/s refused unchecked ${JSON.stringify(g.codes)}`,
        ],
        figures: {
          bruteforce_one_burst_checked: b.codes['4'] ?? 0,
          bruteforce_one_burst_s: Number(b.seconds.toFixed(2)),
          bruteforce_one_addr_checked_per_s: perS(g.codes['4'], g.seconds),
          bruteforce_one_addr_refused_per_s: perS(refusedUnchecked(g.codes), g.seconds),
        },
      };
    }),

  /** Guesses from 40 rotating addresses, 40 in flight. */
  bruteforce_many: () =>
    underAttack('bruteforce_many', {}, async (run) => {
      const ms = sec(20, 6);
      const a = startAttacker([{ kind: 'guesses', port: run.box.port, user: 'gauge', addresses: addrs(10, 40), concurrency: 40, durationMs: ms }], ms + 60_000);
      await a.ready;
      const legit = legitDuring(run, 2000);
      const g = (await a.done)[0] as { codes: Record<string, number>; seconds: number };
      await legit;
      return {
        lines: [`brute force, 40 rotating addresses (127.0.0.10–49 → gauge, real scrypt cost), ${g.seconds.toFixed(1)} s: ${perS(g.codes['4'], g.seconds)} guesses/s checked, ${perS(refusedUnchecked(g.codes), g.seconds)}/s refused unchecked ${JSON.stringify(g.codes)}`],
        figures: { bruteforce_many_checked_per_s: perS(g.codes['4'], g.seconds), bruteforce_many_refused_per_s: perS(refusedUnchecked(g.codes), g.seconds) },
      };
    }),

  /** Five wrong guesses from the device's own address, then the device reconnects. */
  lockout: () =>
    underAttack('lockout', {}, async (run) => {
      const g = (await startAttacker([{ kind: 'guesses', port: run.box.port, user: 'gauge', addresses: ['127.0.0.1'], concurrency: 1, total: 5 }], 60_000).done)[0] as { codes: Record<string, number> };
      run.legit = await reconnectLegit(run.box, run.legitSocket, LEGIT_BOUND_MS);
      return { lines: [`lockout: 5 wrong guesses for gauge from its own address 127.0.0.1 ${JSON.stringify(g.codes)}, then the device reconnects from there`], figures: {} };
    }),

  /** 300 wrong guesses from 75 addresses (4 each, under the lockout), all at once. */
  spray: () =>
    underAttack('spray', {}, async (run) => {
      const a = startAttacker([{ kind: 'guesses', port: run.box.port, user: 'gauge', addresses: addrs(50, 75), concurrency: 300, total: 300 }], 300_000);
      await a.ready;
      const legit = legitDuring(run, 200);
      const g = (await a.done)[0] as { codes: Record<string, number>; seconds: number };
      await legit;
      return {
        lines: [`spray: 300 wrong guesses from 75 addresses (127.0.0.50–124, 4 each) at once: ${g.codes['4'] ?? 0} checked in ${g.seconds.toFixed(2)} s ${JSON.stringify(g.codes)}`],
        figures: { spray_checked: g.codes['4'] ?? 0, spray_s: Number(g.seconds.toFixed(2)) },
      };
    }),

  /** 1,000 connects with the right secret (real cost), all at once. */
  storm: () =>
    underAttack('storm', {}, async (run) => {
      const n = SHORT ? 300 : 1000;
      const a = startAttacker([{ kind: 'storm', port: run.box.port, user: 'storm', secret: secretOf('storm'), n }], 420_000);
      await a.ready;
      // A thousand real-cost checks take minutes on a slow CPU: the device keeps trying as long.
      const legit = legitDuring(run, 200, Math.max(LEGIT_BOUND_MS, 300_000));
      const s = (await a.done)[0] as { codes: Record<string, number>; seconds: number; connect_p50_ms: number; connect_max_ms: number };
      await legit;
      return {
        lines: [`storm: ${n} authenticated connects at once (storm, real scrypt cost): ${s.codes['0'] ?? 0} in, in ${s.seconds.toFixed(1)} s (each: p50 ${s.connect_p50_ms} ms, max ${s.connect_max_ms} ms) ${JSON.stringify(s.codes)}`],
        figures: { storm_connects: n, storm_s: Number(s.seconds.toFixed(1)), storm_connect_max_ms: s.connect_max_ms },
      };
    }),

  /** An officer subscribed to everything that never reads, and a device flooding 1 KB status messages from 300 connections. */
  frozen: () =>
    underAttack('frozen', {}, async (run) => {
      const ms = Number(process.env.ABUSE_FROZEN_S ?? (SHORT ? 10 : 30)) * 1000;
      const port = run.box.port;
      const refreeze = process.env.ABUSE_REFREEZE !== '0';
      const officer = process.env.ABUSE_OFFICER !== '0';
      const specs: AttackSpec[] = [
        ...(officer ? [{ kind: 'frozen' as const, port, secret: secretOf('wang'), durationMs: ms, refreeze }] : []),
        { kind: 'flood', port, secret: secretOf('flood'), connections: 300, payloadBytes: 1000, durationMs: ms, hz: Number(process.env.ABUSE_FLOOD_HZ ?? 0) },
      ];
      const a = startAttacker(specs, ms + 120_000);
      await a.ready;
      const legit = legitDuring(run, Math.min(5000, ms / 2));
      const results = await a.done;
      const f = (officer ? results[0] : { connects: 0, drops: 0 }) as { connects: number; drops: number; error?: string };
      const fl = results.at(-1) as { published: number; per_s: number; drops: number; refused: number; error?: string };
      await legit;
      return {
        lines: [
          `${officer ? `frozen officer (wang, subscribed to sb/v1/abuse/#, never reads${refreeze ? ', frozen again 1 s after each drop' : ''})` : 'NO frozen officer (ABUSE_OFFICER=0)'} + flooding device (300 connections × 1 KB status, ${process.env.ABUSE_FLOOD_HZ ? `${process.env.ABUSE_FLOOD_HZ} Hz each` : 'as fast as they take'}) for ${ms / 1000} s`,
          `  officer: ${f.connects} connects, dropped by the box ${f.drops}×${f.error ? ` (${f.error})` : ''}; flood: ${fl.published} messages written to its sockets (${fl.per_s}/s; not all read by the box), ${fl.drops} connections dropped, ${fl.refused} refused${fl.error ? ` (${fl.error})` : ''}`,
        ],
        figures: { frozen_s: ms / 1000, frozen_officer_drops: f.drops, frozen_flood_msgs_per_s: fl.per_s, frozen_survived: !run.box.exit },
      };
    }),

  /** 1,000 observer connections held open. */
  observers: () =>
    underAttack('observers', {}, async (run) => {
      const n = SHORT ? 300 : 1000;
      const hold = sec(20, 6);
      const a = startAttacker([{ kind: 'observers', port: run.box.port, secret: secretOf('obs'), n, holdMs: hold }], hold + 240_000);
      await a.ready;
      const legit = legitDuring(run, 1000);
      const o = (await a.done)[0] as { connected: number; failed: number; held_at_end: number };
      await legit;
      const r = run.box.rss();
      return {
        lines: [`observers: ${o.connected} of ${n} connected (${o.failed} failed), ${o.held_at_end} still held after ${hold / 1000} s`],
        figures: { observers_connected: o.connected, observers_rss_mb: r?.peak ?? null },
      };
    }),

  /** A smoke detector flapping dirty / normal. */
  flap: () =>
    underAttack('flap', {}, async (run) => {
      const n = SHORT ? 4000 : 20_000;
      const hz = Number(process.env.ABUSE_FLAP_HZ ?? 500);
      const db = new Database(run.box.dbPath, { readonly: true, fileMustExist: true });
      const events = (): number => (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
      const e0 = events();
      const seqBefore = (db.prepare('SELECT coalesce(max(seq), 0) AS s FROM events').get() as { s: number }).s;
      const l0 = run.box.logLines();
      const a = startAttacker([{ kind: 'flap', port: run.box.port, secret: secretOf('sm1'), n, hz }], (n / hz) * 1000 + 120_000);
      const f = (await a.done)[0] as { sent: number; seconds: number };
      await sleep(2000); // the last readings through the engine and the log
      // The flap's own (the probes' alarms are not the flap's): events naming sm1 (its fault
      // raised and cleared) and the panel's fault LED following it; log lines naming sm1.
      const de = events() - e0;
      const sm1Events = (db.prepare("SELECT count(*) AS n FROM events WHERE seq > ? AND (payload LIKE '%sm1%' OR (type = 'effect' AND json_extract(payload, '$.indicator') = 'fault'))").get(seqBefore) as { n: number }).n;
      db.close();
      const added = run.box.logLinesFrom(l0);
      const sm1Lines = added.filter((l) => l.includes('sm1')).length;
      return {
        lines: [`flap: sm1 sent ${f.sent} alternating dirty/normal states in ${f.seconds.toFixed(1)} s (${hz}/s): ${sm1Events} events (sm1's faults, the fault LED) and ${sm1Lines} log lines naming sm1 added (all added, the probes' alarms included: ${de} events, ${added.length} log lines)`],
        figures: { flap_states: f.sent, flap_events: sm1Events, flap_log_lines: sm1Lines },
      };
    }),

  /** A Modbus TCP bus with a unit that never answers, a healthy probe polled every 1 s and the siren relay. */
  deadunit: async () => {
    const sim = new SimulatedBus({ transport: 'tcp' });
    const healthy = sim.add(profiles.get('qdy30a')!, 3);
    healthy.set('unit_code', 1);
    healthy.set('decimals', 2);
    healthy.set('level', 1.2);
    const relay = sim.add(profiles.get('r421a08-relay')!, 1);
    await sim.start();
    try {
      const modbus: ModbusSite = { port: sim.endpoint.port, healthyUnit: 3, deadUnit: 5, relayUnit: 1 };
      return await underAttack('deadunit', { modbus, probes: { modbusRelay: relay, gapMs: 1500 }, legit: false }, async (run) => {
        await sleep(2000);
        const r0 = healthy.requests;
        const t0 = performance.now();
        await sleep(sec(30, 10));
        const interval = (performance.now() - t0) / Math.max(1, healthy.requests - r0);
        const writes = readFileSync(run.box.logPath, 'utf8').split('\n').filter((l) => l.includes('"siren command sent to siren1"')).map((l) => (JSON.parse(l) as { bus_ms: number }).bus_ms).sort((a, b) => a - b);
        const p50 = writes.length ? Math.round(writes[Math.floor(writes.length / 2)]!) : null;
        const max = writes.length ? Math.round(writes.at(-1)!) : null;
        return {
          lines: [
            `dead unit: Modbus TCP bus with unit 5 never answering (polled every 1 s), healthy QDY30A at unit 3 (poll_s 1), R421A08 siren relay at unit 1`,
            `  siren write on the bus (box's bus_ms: queue + write + read-back): p50 ${p50} ms, max ${max} ms over ${writes.length}; healthy probe read every ${Math.round(interval)} ms (asked for 1000)`,
          ],
          // The figure of the issue is the wait behind the dead unit: the worst write (most land between its polls).
          figures: { deadunit_siren_write_ms: max, deadunit_siren_write_p50_ms: p50, deadunit_probe_poll_interval_ms: Math.round(interval) },
        };
      });
    } finally {
      await sim.stop();
    }
  },
};
