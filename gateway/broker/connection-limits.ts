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
 * The defaults: 300 field devices and a few screens with room to spare; people's accounts are
 * few and their connections (panels, phones) cost the most memory each.
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

export function connectionLimits(o: ConnectionLimitOptions = {}): ConnectionLimits {
  const d = DEFAULT_CONNECTION_LIMITS;
  return {
    total: o.total ?? d.total,
    unauthenticated: o.unauthenticated ?? d.unauthenticated,
    perAccount: { ...d.perAccount, ...o.perAccount },
    perRole: { ...d.perRole, ...o.perRole },
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
    const takesOver = [...this.open.values()].some((o) => o.account === account && o.clientId === clientId);
    if (!takesOver) {
      if ((this.byAccount.get(account) ?? 0) >= this.limits.perAccount[role]) return { limit: 'account', max: this.limits.perAccount[role] };
      if ((this.byRole.get(role) ?? 0) >= this.limits.perRole[role]) return { limit: 'role', max: this.limits.perRole[role] };
    }
    this.unauthenticated--;
    Object.assign(e, { account, role, clientId });
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
    this.byAccount.set(e.account, this.byAccount.get(e.account)! - 1);
    if (this.byAccount.get(e.account) === 0) this.byAccount.delete(e.account);
    this.byRole.set(e.role, this.byRole.get(e.role)! - 1);
  }
}

/** CONNACK 3 (server unavailable) for a connection over a limit. */
export function serverUnavailable(r: Refusal): AuthenticateError {
  return Object.assign(new Error(`connection refused: too many connections (${r.limit} limit ${r.max})`), { returnCode: 3 as AuthErrorCode });
}
