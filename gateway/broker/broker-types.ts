/** The broker module's public types: its options, its counters and its one error class. */
import type { AuthStats, GatePolicy, LockoutPolicy, Verifier } from './auth.ts';
import type { OutputLimits } from './client-output.ts';
import type { Budget } from './input-budget.ts';
import type { SliceLimits } from './read-turns.ts';
import type { AccountRole } from '../config/types.ts';
import type { ConnectionLimitOptions } from './connection-limits.ts';

export interface BrokerStats {
  /** Clients connected and authenticated now. */
  clients: number;
  /** MQTT connections open now (TCP and WebSocket), authenticated or not. */
  openConnections: number;
  /** Of those, the ones not authenticated yet. */
  unauthenticatedConnections: number;
  /** CONNECTs refused for credentials (anonymous, unknown user, wrong secret, locked out, busy). */
  authFailures: number;
  /** Publishes, subscriptions and last wills refused by the ACL. */
  aclDenials: number;
  rejectedReadings: number;
  rejectedCommands: number;
  /** Rejected actuator reports and device status messages. */
  rejectedOther: number;
  /** What the secret-check gates did: scrypt runs, cache hits, busy and lockout refusals (auth.ts). */
  auth: AuthStats;
  /** Connections refused for a connection limit (connection-limits.ts). */
  refusedConnections: number;
}

export interface BrokerOptions {
  /** Bytes per second each account may send, by role (input-budget.ts; tests lower them). */
  inputBudgets?: Partial<Record<AccountRole, Budget>>;
  /** How much input one loop turn takes (read-turns.ts DEFAULT_SLICE; tests change it). */
  inputSlice?: Partial<SliceLimits>;
  /** Overrides `mqtt.port` (0 = ephemeral). */
  tcpPort?: number | undefined;
  /** Overrides `mqtt.ws_port`; here 0 means ephemeral, not off. */
  wsPort?: number | undefined;
  /** Disconnect a subscriber whose socket has not drained for this long. Default 5000. */
  drainTimeoutMs?: number;
  /** Close a socket that sent no CONNECT within this. Default 10000. */
  connectTimeoutMs?: number;
  lockout?: Partial<LockoutPolicy>;
  /** Bounds on secret checks (lanes, rates, cache lifetimes); defaults in auth.ts DEFAULT_GATE. */
  authGate?: Partial<GatePolicy>;
  /** The scrypt check (default secrets.ts verifySecret); tests count and hold checks through it. */
  verifySecret?: Verifier;
  /** `stop()` resolves within about this, whatever the clients do. Default 3000. */
  stopDeadlineMs?: number;
  /** `publish()` rejects if aedes has not finished with the message by then. Default drain + 1000. */
  publishTimeoutMs?: number;
  /** Per-client output bounds (client-output.ts). Default 256 KiB; dropping for drainTimeoutMs. */
  output?: Partial<OutputLimits>;
  /** People's clients get at most one raw reading per sensor per this (reading-rate.ts). Default 1000. */
  peopleReadingIntervalMs?: number;
  /** Connection limits (connection-limits.ts); unset ones keep their defaults. */
  connections?: ConnectionLimitOptions;
}

export class BrokerError extends Error {
  constructor(readonly code: 'E_BROKER_DOWN' | 'E_BROKER_TOPIC' | 'E_BROKER_TIMEOUT' | 'E_BROKER_PUBLISH', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerError';
  }
}

