/**
 * The flood phases' and the peer's figures as keys of the e2e benchmark's JSON line (and the
 * lines printed for them). The issue's three names (`flood_issued_p99_ms`, `flood_relay_p99_ms`,
 * `flood_lost_triggers`) hold the highest rate's figures, the worst case; every rate also has
 * its own `flood<rate>_…` keys (24000 → `flood24k_`). A rate that never ran because the box
 * had died counts every probe it would have sent as lost, and its latencies are null: a dead
 * box sounds nothing.
 */
import { readFileSync } from 'node:fs';
import type { PeerFigures } from './flood-peer.ts';
import { issuedFor, raisedFor, type FloodResult } from './flood-phase.ts';

export const rateKey = (r: number): string => (r % 1000 === 0 ? `${r / 1000}k` : String(r));
const round = (x: number, d = 2): number => Number(x.toFixed(d));

export interface FloodSetup {
  rates: number[];
  seconds: number;
  frozen: boolean;
  procs: number;
  conns: number;
  probesPerFlood: number;
  logFile: string;
  /** How the box ended during the floods, null if it lived through them. */
  boxExit: string | null;
}

export function floodReport(floods: { rate: number; r: FloodResult }[], o: FloodSetup): Record<string, unknown> {
  const out: Record<string, unknown> = { flood_rates_offered: o.rates.join(','), flood_seconds: o.seconds, flood_frozen_subscriber: o.frozen, flood_generator_processes: o.procs, flood_connections: o.conns };
  const top = Math.max(...o.rates);
  // A flood that was meant to run and did not (the box died first) lost all its probes; none meant, none lost.
  let worst: Record<string, unknown> = { flood_issued_p99_ms: null, flood_relay_p99_ms: null, flood_lost_triggers: o.rates.length ? o.probesPerFlood : null };
  for (const { rate, r } of floods) {
    const iss = issuedFor(o.logFile, r.sent);
    console.log(`  flood ${rate}/s: publish → siren command issued by the box: p50 ${iss.p50_ms} ms, p99 ${iss.p99_ms} ms, max ${iss.max_ms} ms (${iss.samples} of ${r.probes} probes; ${iss.missing} never logged)`);
    const raised = raisedFor(o.logFile, r.sent);
    console.log(`  flood ${rate}/s: publish → alarm logged by the engine: p50 ${raised.p50_ms} ms, p99 ${raised.p99_ms} ms, max ${raised.max_ms} ms (${raised.samples} of ${r.probes} probes; whole ms)`);
    const k = `flood${rateKey(rate)}_`;
    Object.assign(out, {
      [`${k}alarm_logged_p50_ms`]: raised.p50_ms,
      [`${k}alarm_logged_p99_ms`]: raised.p99_ms,
      [`${k}alarm_never_logged`]: raised.missing,
      [`${k}offered_per_s`]: r.offered_per_s,
      [`${k}achieved_per_s`]: r.achieved_per_s,
      [`${k}stored_per_s`]: r.stored_per_s,
      [`${k}officer_msgs_per_s`]: r.officer_msgs_per_s,
      [`${k}probes`]: r.probes,
      [`${k}issued_p50_ms`]: iss.p50_ms,
      [`${k}issued_p99_ms`]: iss.p99_ms,
      [`${k}issued_max_ms`]: iss.max_ms,
      [`${k}issued_never_logged`]: iss.missing,
      [`${k}relay_p50_ms`]: r.relay.p50_ms,
      [`${k}relay_p99_ms`]: r.relay.p99_ms,
      [`${k}relay_max_ms`]: r.relay.max_ms,
      [`${k}lost_triggers`]: r.lost,
      [`${k}rss_peak_mb`]: r.rss_peak_mb,
      [`${k}frozen_drops`]: r.frozen_drops,
      [`${k}box_alive`]: r.box_alive,
      [`${k}recovery_s`]: r.recovery_s ?? null,
      [`${k}after_unrecovered`]: r.after_unrecovered ?? false,
    });
    if (rate === top) worst = { flood_issued_p99_ms: iss.p99_ms, flood_relay_p99_ms: r.relay.p99_ms, flood_lost_triggers: r.lost };
  }
  let reason: string | null = null;
  if (o.boxExit) {
    // What the box said as it died (V8's heap-limit abort, an uncaught RangeError, …): its stderr is in the same file.
    const said = readFileSync(o.logFile, 'utf8').split('\n').filter((l) => !l.startsWith('{') && /FATAL ERROR|RangeError|Error:|uncaught/i.test(l));
    reason = said[0]?.trim().slice(0, 200) ?? null;
    console.log(`  THE BOX DIED during the floods (${o.boxExit})${reason ? `: ${reason}` : ''}`);
  }
  return { ...worst, ...out, box_survived_floods: o.boxExit === null, box_exit: o.boxExit, box_exit_reason: reason };
}

/** The peer's figures beside ours (E2E_PEER=1): its quiet p99 and its ladder step at each flood rate. */
export function peerFigures(peer: PeerFigures | { error: string }, boxRelayP99: number): Record<string, unknown> {
  if ('error' in peer) return { peer_error: peer.error };
  const s = peer.summary;
  const out: Record<string, unknown> = { peer_p50_ms: s.p50_ms, peer_p99_ms: s.p99_ms, peer_lost_triggers: s.lost_triggers, peer_readings_per_s: s.readings_per_s, p99_ratio_box_to_peer: typeof s.p99_ms === 'number' ? round(boxRelayP99 / s.p99_ms) : null };
  console.log(`peer (same run): quiet publish → siren p50 ${String(s.p50_ms)} ms, p99 ${String(s.p99_ms)} ms; box (publish → relay) p99 ${boxRelayP99} ms: ${boxRelayP99 <= Number(s.p99_ms) ? 'no worse' : 'WORSE'}`);
  for (const st of peer.steps) {
    const k = `peer_flood${rateKey(st.target_per_s)}_`;
    const lost = st.triggers_missing + st.triggers_wrong_seq;
    Object.assign(out, { [`${k}achieved_per_s`]: st.achieved_per_s, [`${k}p99_ms`]: st.p99_ms, [`${k}max_ms`]: st.max_ms, [`${k}lost_triggers`]: lost, [`${k}triggers`]: st.triggers_expected });
    console.log(`peer flood ${st.target_per_s}/s (no frozen subscriber): achieved ${st.achieved_per_s}/s, siren p50 ${st.p50_ms} ms, p99 ${st.p99_ms} ms, max ${st.max_ms} ms, lost ${lost} of ${st.triggers_expected}`);
  }
  return out;
}
