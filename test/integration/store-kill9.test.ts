/**
 * Durability under kill -9 (DESIGN.md, "The box on its own": the log survives kill -9 at any
 * instant). A child process (test/helpers/store-kill9-child.ts) appends events and readings in
 * a tight loop on one database file and prints `acted <seq> <payload>` after each append()
 * returned; the parent SIGKILLs it 50–400 ms after it is ready, 25 times on the same file, plus
 * 5 kills 0–15 ms after it starts opening (inside start(): open, migration, seq reservation).
 *
 * The store's WAL checkpoints run in its worker thread (checkpointer.ts); each child waits for
 * that worker before `ready`, so kills land during its checkpoints and WAL restarts too.
 *
 * Then: integrity_check is ok; every acted seq is on disk with its exact payload; seqs are
 * unique and follow the order the events were made; every run continues above the seqs of
 * the runs before it (never reused); at most the one event in flight per run is on disk
 * without having been acted on.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { peek, tempDir } from '../helpers/store-rig.ts';

const CHILD = fileURLToPath(new URL('../helpers/store-kill9-child.ts', import.meta.url));
const RUNS = 25;
const EARLY_EVERY = 5; // before runs 0, 5, 10, 15, 20: one extra run killed while opening
const SEED = Number(process.env.STORE_KILL9_SEED ?? 20260720);

/** mulberry32: a small seeded PRNG, so the kill times are the same on every run of the test. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  run: number;
  early: boolean;
  killAfterMs: number;
  ready: number | null;
  acted: Array<{ seq: number; json: string }>;
  /** WAL checkpoints the store's worker thread finished in this run. */
  checkpoints: number;
}

interface Child {
  /** Resolves once Node and tsx have loaded the child (it waits before opening the database). */
  loaded: Promise<void>;
  /** Lets it open the database and run until killed. */
  go(): void;
  done: Promise<Run>;
}

function spawnChild(path: string, run: number, early: boolean, killAfterMs: number): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(run)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const result: Run = { run, early, killAfterMs, ready: null, acted: [], checkpoints: 0 };
  let onLoaded = (): void => {};
  const loaded = new Promise<void>((r) => (onLoaded = r));
  let out = '';
  let err = '';
  const kill = (): void => void setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line === 'loaded') onLoaded();
      else if (line === 'opening') {
        if (early) kill();
      } else if (line.startsWith('ready ')) {
        result.ready = Number(line.slice(6));
        if (!early) kill();
      } else if (line.startsWith('acted ')) {
        const sp = line.indexOf(' ', 6);
        result.acted.push({ seq: Number(line.slice(6, sp)), json: line.slice(sp + 1) });
      } else if (line.startsWith('checkpoints ')) result.checkpoints = Number(line.slice(12));
    }
  });
  const done = new Promise<Run>((resolve, reject) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`run ${run}: child exited by itself (code ${code}, signal ${signal}):\n${err}`));
      else resolve(result);
    });
  });
  done.catch(() => onLoaded());
  return { loaded, go: () => void child.stdin.write('go\n'), done };
}

const dir = tempDir('sb-kill9-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('event store under kill -9', () => {
  it(`keeps every acted event across ${RUNS} kills (+${RUNS / EARLY_EVERY} while opening), seqs never reused`, async () => {
    const path = join(dir, 'kill9.db');
    const random = rng(SEED);
    const t0 = Date.now();
    const plan: Array<{ early: boolean; killAfterMs: number }> = [];
    for (let i = 0; i < RUNS; i++) {
      if (i % EARLY_EVERY === 0) plan.push({ early: true, killAfterMs: Math.floor(random() * 16) });
      plan.push({ early: false, killAfterMs: 50 + Math.floor(random() * 351) });
    }
    // One writer at a time; the next child loads while the current one runs.
    const runs: Run[] = [];
    const start = (k: number): Child => spawnChild(path, k, plan[k]!.early, plan[k]!.killAfterMs);
    let next = start(0);
    for (let k = 0; k < plan.length; k++) {
      const current = next;
      await current.loaded;
      current.go();
      if (k + 1 < plan.length) next = start(k + 1);
      runs.push(await current.done);
    }
    const seconds = (Date.now() - t0) / 1000;

    const disk = peek(path, (db) => ({
      integrity: db.pragma('integrity_check', { simple: true }),
      events: db.prepare('SELECT seq, type, payload FROM events ORDER BY seq').all() as Array<{ seq: number; type: string; payload: string }>,
      readings: db.prepare('SELECT count(*) FROM readings').pluck().get() as number,
    }));
    expect(disk.integrity).toBe('ok');
    const bySeq = new Map(disk.events.map((e) => [e.seq, e.payload]));

    // Every acted event is on disk with exactly the payload the box acted on; no seq twice.
    const seen = new Set<number>();
    let acted = 0;
    for (const r of runs) {
      for (const a of r.acted) {
        expect(seen.has(a.seq), `seq ${a.seq} acted twice`).toBe(false);
        seen.add(a.seq);
        expect(bySeq.get(a.seq), `run ${r.run}: acted seq ${a.seq} missing or changed`).toBe(a.json);
        acted++;
      }
    }

    // Seqs continue after every restart, above everything handed out before.
    let highest = 0;
    for (const r of runs) {
      const seqs = r.acted.map((a) => a.seq);
      expect(seqs, `run ${r.run}: seqs not strictly increasing`).toEqual([...new Set(seqs)].sort((a, b) => a - b));
      if (r.ready !== null) expect(r.ready, `run ${r.run} resumed at ${r.ready}, below ${highest}`).toBeGreaterThanOrEqual(highest);
      if (seqs.length > 0) {
        expect(seqs[0]!, `run ${r.run} reused a seq`).toBeGreaterThan(highest);
        highest = seqs.at(-1)!;
      }
    }

    // On disk, seq order is the order the events were made (run, then i), and each run has at
    // most one event more than it acted on: the one committed just before the kill.
    const made = disk.events.filter((e) => e.type !== 'storage').map((e) => JSON.parse(e.payload) as { run: number; i: number });
    for (let k = 1; k < made.length; k++) {
      const [p, q] = [made[k - 1]!, made[k]!];
      expect(q.run > p.run || (q.run === p.run && q.i === p.i + 1), `disk order broken at ${JSON.stringify(p)} → ${JSON.stringify(q)}`).toBe(true);
    }
    for (const r of runs) {
      const extra = made.filter((m) => m.run === r.run).length - r.acted.length;
      expect(extra, `run ${r.run}`).toBeGreaterThanOrEqual(0);
      expect(extra, `run ${r.run}`).toBeLessThanOrEqual(1);
    }

    const normal = runs.filter((r) => !r.early);
    expect(normal.every((r) => r.ready !== null)).toBe(true);
    expect(normal.filter((r) => r.acted.length > 0).length).toBeGreaterThanOrEqual(RUNS - 2);
    expect(disk.readings).toBeGreaterThan(0);
    // The kills also landed while the checkpoint worker copied the WAL back and restarted it.
    const checkpoints = runs.reduce((n, r) => n + r.checkpoints, 0);
    expect(checkpoints).toBeGreaterThan(0);
    const early = runs.filter((r) => r.early);
    console.log(
      `store-kill9: ${runs.length} kills (${normal.length} at 50–400 ms after ready, ${early.length} at 0–15 ms after opening, ` +
        `${early.filter((r) => r.ready === null).length} of those before ready), ` +
        `${acted} acted events checked, ${disk.events.length} events and ${disk.readings} readings on disk, ` +
        `${checkpoints} worker checkpoints in ${runs.filter((r) => r.checkpoints > 0).length} runs, ` +
        `last seq ${disk.events.at(-1)?.seq}, ${seconds.toFixed(1)} s, seed ${SEED}`,
    );
  });
});
