/**
 * The peer (Node-RED + Mosquitto, /work/shared/peers/node-red/run.sh) in the same run as the
 * e2e benchmark (E2E_PEER=1), so the two are compared in the same hour on the same machine.
 * Run before the box starts, never beside it: they would share the two cores.
 *
 * Like for like: its base phase is our quiet phase (1,000 gauges × 1 Hz; latency = reading
 * published → siren command received by a subscriber in a worker thread), and its ladder is
 * set to our flood rates and phase length (LADDER, STEP_S, FULL_LADDER=true), so each of our
 * flood rates has a peer step at the same rate. Its flood has no frozen subscriber (run.sh has
 * none); ours does, which is harder. Its own environment knobs (SENSORS, DURATION_S, …) pass
 * through. Bounded: killed after 15 minutes.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const RUN_SH = process.env.E2E_PEER_RUN ?? '/work/shared/peers/node-red/run.sh';

export interface PeerStep { target_per_s: number; achieved_per_s: number; triggers_expected: number; triggers_ok: number; triggers_missing: number; triggers_wrong_seq: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null }
export interface PeerFigures { summary: Record<string, unknown>; steps: PeerStep[] }

export function runPeer(rates: number[], stepS: number): Promise<PeerFigures | { error: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [RUN_SH], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LADDER: process.env.LADDER ?? rates.join(','), STEP_S: process.env.STEP_S ?? String(stepS), FULL_LADDER: process.env.FULL_LADDER ?? 'true' },
    });
    const killer = setTimeout(() => child.kill('SIGTERM'), 15 * 60_000);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      process.stdout.write(chunk.replace(/^(?=.)/gm, 'peer| '));
    });
    child.on('exit', (code) => {
      clearTimeout(killer);
      const lines = out.trim().split('\n');
      const runDir = /per-step results in (\S+)/.exec(out)?.[1];
      try {
        const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
        const results = JSON.parse(readFileSync(`${runDir}/results.json`, 'utf8')) as { nodered: { ladder_steps: PeerStep[] } };
        resolve({ summary, steps: results.nodered.ladder_steps });
      } catch (err) {
        resolve({ error: `peer run.sh exited ${code}; its figures could not be read (${String(err)})` });
      }
    });
  });
}
