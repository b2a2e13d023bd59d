/**
 * One typed event map the modules talk through (STYLE.md: no globals). A listener that throws
 * is logged and does not stop the others or the emitter.
 */
import type { Logger } from 'pino';
import type { AccountRole } from '../config/types.ts';
import type { AlertTransition, Reading } from '../engine/types.ts';
import type { Command, Effect } from '../planner/types.ts';

/** Who sent a command, as the broker authenticated them (never taken from the payload). */
export interface CommandMeta {
  by: string;
  /** The sender's account role; `system` for what the box sends itself (the scheduled self-tests). */
  role: Role | 'system';
  /** How it arrived: `mqtt`, `panel`, `button`, `schedule`. */
  via: string;
}

export type Role = AccountRole;

/**
 * The township's own commands and 吹哨 escalation (issue 16; who may send which: payloads.ts).
 * `set_threshold` overrides one rule's threshold of one sensor for `forS` seconds
 * (engine/thresholds.ts names them); `escalate` calls the township about an alert;
 * `escalation_ack` is the township's answer, `acknowledgedBy` the person there, if it says.
 */
export type TownshipCommand =
  | { type: 'report'; by: string }
  | { type: 'set_threshold'; by: string; sensor: string; threshold: string; value: number; forS: number }
  | { type: 'clear_threshold'; by: string; sensor: string; threshold: string }
  | { type: 'escalate'; by: string; alert: string; text: string }
  | { type: 'escalation_ack'; by: string; escalation: string; acknowledgedBy?: string; text?: string };

/**
 * An officer's acknowledgement goes to the engine; every other command to the planner, or to
 * the township handling. `commandId` is the sender's `command_id`, echoed in the result.
 */
export type BoxCommand = (Command | { type: 'ack'; alert: string; by: string } | TownshipCommand) & { commandId?: string };

/** What an actuator (siren relay, speaker) reports back. */
export interface ActuatorReport {
  actuator: string;
  /** `done` (finished an activity), `state` (what it is doing), `fault`. */
  report: 'done' | 'state' | 'fault';
  activity?: string;
  zone?: string;
  detail?: Record<string, unknown>;
}

export interface BoxStatus {
  state: 'online' | 'offline' | 'stopping';
  /** Problems the officers must know about, e.g. `storage_degraded`. */
  problems: string[];
  active_alerts: number;
  at: string;
  /** The township uplink's state, when the site has one (gateway/uplink/). */
  uplink?: UplinkState;
}

/** The township uplink's state for the panel and the status topics (snake_case: it goes on the wire). */
export interface UplinkState {
  online: boolean;
  /** Since when the link is down (wall time with offset); null while online. */
  offline_since: string | null;
  /** Events above the cursor: an upper bound (a seq gap counts). */
  events_waiting: number;
  /** Wall time of the oldest event not yet at the township; null when none waits. */
  oldest_waiting_at: string | null;
  /** The cursor: every event up to it is at the township. */
  last_ack_seq: number;
}

/** An event as it was written to the log, with its seq: what the uplink and `event` topic carry. */
export interface LoggedEvent {
  seq: number;
  type: string;
  atWall: number;
  payload: unknown;
}

/** Where an effect came from in time: for the box's own measure of its alarm path. */
export interface EffectMeta {
  /** `performance.now()` when the input that caused the effect (a reading, tick, command) reached the engine. */
  since: number;
}

/**
 * What became of a command, for whoever sent it: the township reads it on
 * `sb/v1/<site>/cmd/box/result` (the uplink publishes those with `via: 'uplink'`), officers
 * on the local broker. `commandId` is the sender's `command_id`, null if it gave none.
 */
export interface CommandResult {
  commandId: string | null;
  ok: boolean;
  /** Why not, in words (`path: message` for a payload the schema refused). */
  error?: string;
  by: string;
  via: string;
}

/** A message the township broker delivered to the uplink's subscriptions (its ACL vouches for the sender). */
export interface TownshipMessage {
  topic: string;
  payload: Buffer;
}

export interface BoxEvents {
  /** A normalised reading from any driver or MQTT sensor, already validated. */
  reading: [Reading];
  /** An authorised command. */
  command: [BoxCommand, CommandMeta];
  /** Logged, then acted on. */
  transition: [AlertTransition];
  effect: [Effect, EffectMeta?];
  actuatorReport: [ActuatorReport];
  status: [BoxStatus];
  /** Written to the event log (emitted after the write returned). */
  logged: [LoggedEvent];
  /** A command was carried out or refused (see CommandResult). */
  commandResult: [CommandResult];
  /** A CAP message from the township's warning tree (`sb/v1/cap/#`), for the CAP inbox. */
  townshipCap: [TownshipMessage];
}

type Listener<A extends unknown[]> = (...args: A) => void;

export class Bus<E extends { [K in keyof E]: unknown[] } = BoxEvents> {
  private readonly listeners = new Map<keyof E, Listener<any>[]>();
  constructor(private readonly log: Logger) {}

  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    const list = this.listeners.get(event) ?? [];
    list.push(fn);
    this.listeners.set(event, list);
    return () => this.listeners.set(event, (this.listeners.get(event) ?? []).filter((f) => f !== fn));
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        fn(...args);
      } catch (err) {
        this.log.error({ err, event: String(event) }, 'event listener failed');
      }
    }
  }
}
