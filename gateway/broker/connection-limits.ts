/**
 * How many MQTT connections the box holds, so a flood of them cannot take its memory (1,000 held
 * observer connections reached 170 MB RSS; issue 15). Counted per connection stream (TCP socket
 * or WebSocket), from accept to close:
 *
 * - `total` open connections, and `unauthenticated` ones (no CONNECT yet, or its secret still
 *   being checked): both checked at accept, where a refusal can only be closing the socket
 *   before reading a byte; a flood is stopped at the cost of an accept, never of a parser, a
 *   connect timer or a scrypt check.
 * - Per account and per role, authenticated connections: checked when the secret is good, and
 *   refused with CONNACK 3 (server unavailable), the one MQTT 3.1.1 code for "not now". A
 *   connection that takes over a session of the same account (same client id, broker.ts makes
 *   ids per account) does not count, since aedes closes the old one: a device reconnecting
 *   while its half-open old connection waits for its keepalive must not be locked out.
 *
 * The limits follow the site (`siteConnectionLimits`): devices may hold one connection per
 * device account plus half again and 16 (a gauge whose old connection is half-open, spares
 * being tried), never fewer than 480; not-yet-authenticated connections a quarter of all
 * accounts, never fewer than 64 (a whole site reconnecting after the box restarts must not be
 * turned away at accept for minutes); the total is the sum of what the roles may hold plus
 * the unauthenticated allowance. A fixed 480 turned away most of a 1,000-gauge site (the e2e
 * benchmark's, CONNACK 3). People's accounts are few and their connections (panels, phones)
 * cost the most memory each: officers 32, township 8, observers 32 in all.
 */
import type { AuthErrorCode, AuthenticateError } from 'aedes';
import type { AccountRole } from '../config/types.ts';

export interface ConnectionLimits {
  total: number;
  unauthenticated: number;
  perAccount: Record<AccountRole, number>;
  perRole: Record<AccountRole, number>;
}

export type ConnectionLimitOptions = Partial<Omit<ConnectionLimits, 'perAccount' | 'perRole'>> & {
  perAccount?: Partial<Record<AccountRole, number>>;
  perRole?: Partial<Record<AccountRole, number>>;
};

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  total: 512,
  unauthenticated: 64,
  perAccount: { device: 4, officer: 8, township: 4, observer: 8 },
  perRole: { device: 480, officer: 32, township: 8, observer: 32 },
};

/** The defaults grown to the site's accounts (see the header). */
export function siteConnectionLimits(accounts: readonly { role: AccountRole }[]): ConnectionLimits {
  const d = DEFAULT_CONNECTION_LIMITS;
  const devices = accounts.filter((a) => a.role === 'device').length;
  const perRole = { ...d.perRole, device: Math.max(d.perRole.device, Math.ceil(devices * 1.5) + 16) };
  const unauthenticated = Math.max(d.unauthenticated, Math.ceil(accounts.length / 4));
  const held = perRole.device + perRole.officer + perRole.township + perRole.observer;
  return { total: Math.max(d.total, held + unauthenticated), unauthenticated, perAccount: { ...d.perAccount }, perRole };
}

/** `base` (the site's limits) with a test's or an integrator's overrides. */
export function connectionLimits(o: ConnectionLimitOptions = {}, base: ConnectionLimits = DEFAULT_CONNECTION_LIMITS): ConnectionLimits {
  return {
    total: o.total ?? base.total,
    unauthenticated: o.unauthenticated ?? base.unauthenticated,
    perAccount: { ...base.perAccount, ...o.perAccount },
    perRole: { ...base.perRole, ...o.perRole },
  };
}

/** Which limit refused a connection, and the count it met. */
export interface Refusal {
  limit: 'total' | 'unauthenticated' | 'account' | 'role';
  max: number;
}

interface Entry {
  account: string | null;
  role: AccountRole | null;
  clientId: string | null;
}

/** The connections open now, by stream. */
export class Connections {
  private readonly open = new Map<object, Entry>();
  private unauthenticated = 0;
  private readonly byAccount = new Map<string, number>();
  private readonly byRole = new Map<AccountRole, number>();
  /** Authenticated connections per account and client id (a takeover finds its old one here). */
  private readonly sessions = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimits) {}

  /** At accept: counts `stream` until it closes, or refuses it (the caller closes it). */
  accept(stream: NodeJS.EventEmitter): Refusal | null {
    if (this.open.size >= this.limits.total) return { limit: 'total', max: this.limits.total };
    if (this.unauthenticated >= this.limits.unauthenticated) return { limit: 'unauthenticated', max: this.limits.unauthenticated };
    this.open.set(stream, { account: null, role: null, clientId: null });
    this.unauthenticated++;
    stream.once('close', () => this.release(stream));
    return null;
  }

  /** When its secret is good: counts it for `account`, or refuses it (CONNACK 3). */
  authenticated(stream: object, account: string, role: AccountRole, clientId: string): Refusal | null {
    const e = this.open.get(stream);
    if (!e || e.account !== null) return null;
    const takesOver = (this.sessions.get(`${account}\u0000${clientId}`) ?? 0) > 0;
    if (!takesOver) {
      if ((this.byAccount.get(account) ?? 0) >= this.limits.perAccount[role]) return { limit: 'account', max: this.limits.perAccount[role] };
      if ((this.byRole.get(role) ?? 0) >= this.limits.perRole[role]) return { limit: 'role', max: this.limits.perRole[role] };
    }
    this.unauthenticated--;
    Object.assign(e, { account, role, clientId });
    const key = `${account}\u0000${clientId}`;
    this.sessions.set(key, (this.sessions.get(key) ?? 0) + 1);
    this.byAccount.set(account, (this.byAccount.get(account) ?? 0) + 1);
    this.byRole.set(role, (this.byRole.get(role) ?? 0) + 1);
    return null;
  }

  /** What is open now, for the refusal's log line. */
  counts(account?: string, role?: AccountRole): { open: number; unauthenticated: number; account_open?: number; role_open?: number } {
    return {
      open: this.open.size,
      unauthenticated: this.unauthenticated,
      ...(account !== undefined && { account_open: this.byAccount.get(account) ?? 0 }),
      ...(role !== undefined && { role_open: this.byRole.get(role) ?? 0 }),
    };
  }

  private release(stream: object): void {
    const e = this.open.get(stream);
    if (!e) return;
    this.open.delete(stream);
    if (e.account === null || e.role === null) {
      this.unauthenticated--;
      return;
    }
    const key = `${e.account}\u0000${e.clientId}`;
    if (this.sessions.get(key) === 1) this.sessions.delete(key);
    else this.sessions.set(key, this.sessions.get(key)! - 1);
    this.byAccount.set(e.account, this.byAccount.get(e.account)! - 1);
    if (this.byAccount.get(e.account) === 0) this.byAccount.delete(e.account);
    this.byRole.set(e.role, this.byRole.get(e.role)! - 1);
  }
}

/** CONNACK 3 (server unavailable) for a connection over a limit. */
export function serverUnavailable(r: Refusal): AuthenticateError {
  return Object.assign(new Error(`connection refused: too many connections (${r.limit} limit ${r.max})`), { returnCode: 3 as AuthErrorCode });
}
