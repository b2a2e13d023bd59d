/**
 * Abuse: the attacks of issue 15 against the compiled box (its own process, as deployed), each
 * on a fresh box, each printing what the alarm and a legitimate device saw while it ran:
 *
 *   baseline         no attack (what the figures below are read against)
 *   bruteforce_one   100 parallel wrong secrets from one address, then guessing from it
 *   bruteforce_many  guessing from 40 rotating addresses
 *   lockout          5 wrong guesses from the device's own address, then the device reconnects
 *   spray            300 wrong guesses from 75 addresses at once
 *   storm            1,000 authenticated connects at once
 *   frozen           an officer that never reads + a device flooding 1 KB messages from 300 connections
 *   observers        1,000 observer connections held
 *   flap             a smoke detector sending 20,000 alternating dirty/normal states
 *   deadunit         a Modbus unit that never answers on the siren relay's bus
 *
 * For each: alarm latency p50/p99/max over sequential probes during the attack (a reading over
 * the red stage → the siren command at the relay), the legitimate device's reconnect time, the
 * box's RSS (peak, now), and whether the box survived; one JSON line of figures at the end.
 * The brute-force, lockout and storm accounts use the box's real scrypt cost (N = 2^14), so
 * their figures depend on this CPU; the others use box-process.ts' cheap BENCH_SCRYPT.
 * Loopback only (127.0.0.x source addresses stand for many attackers); every attack ends by
 * itself and every wait is bounded; the box is killed after each attack.
 *
 * `npm run bench -- abuse`. ABUSE_ONLY=frozen,flap runs those; ABUSE_SHORT=1 shrinks every
 * attack for a quick look; ABUSE_FROZEN_S=600 soaks the frozen-officer attack for 10 minutes;
 * ABUSE_FLOOD_HZ=N paces each flooding connection (default: as fast as it takes);
 * ABUSE_REFREEZE=0 lets the frozen officer stay dropped; ABUSE_OFFICER=0 floods without it; ABUSE_FLAP_HZ (default 500);
 * ABUSE_LEGIT_BOUND_S (default 75): how long the legitimate device keeps trying.
 */
import { ATTACKS, type Figures } from './abuse-scenarios.ts';

const only = process.env.ABUSE_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((n) => !(n in ATTACKS)) ?? [];
if (unknown.length) {
  console.error(`ABUSE_ONLY: unknown attack ${unknown.join(', ')} (known: ${Object.keys(ATTACKS).join(', ')})`);
  process.exit(2);
}
const figures: Figures = { short: process.env.ABUSE_SHORT === '1' };
for (const [name, run] of Object.entries(ATTACKS)) {
  if (only && !only.includes(name)) continue;
  console.log(`\n== ${name}`);
  const t0 = performance.now();
  try {
    const out = await run();
    for (const l of out.lines) console.log(`  ${l}`);
    Object.assign(figures, out.figures);
  } catch (err) {
    console.log(`  ATTACK FAILED TO RUN: ${(err as Error).stack ?? err}`);
    figures[`${name}_error`] = String((err as Error).message ?? err);
  }
  console.log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
console.log(JSON.stringify(figures));
process.exit(0);
