/**
 * The panel's sessions (pure; clock injected): random 32-byte tokens held in memory only, so a
 * box restart signs everyone out (nothing secret is written to the SD card, and a stolen card
 * holds no live session). Each session has its own CSRF token (csrf.ts).
 *
 * Expiry: `idleMs` after the last request (config `panel.session_idle_h`, default 12 h), and
 * in any case `absoluteMs` after sign-in (the longer of 24 h, one duty shift of 24 h 值班, and
 * the idle time): a token that leaks cannot be kept alive by use forever.
 *
 * At most MAX_SESSIONS live at once; signing in beyond that ends the least recently used one,
 * so sign-ins cannot grow memory.
 */
import { randomBytes } from 'node:crypto';
import type { Role } from '../shell/bus.ts';

export interface Session {
  token: string;
  csrf: string;
  username: string;
  role: Role;
  address: string;
  createdAt: number;
  lastSeen: number;
}

export type EndReason = 'signed_out' | 'expired' | 'replaced';

export const MAX_SESSIONS = 256;
const DAY_MS = 24 * 3600_000;

export class Sessions {
  private readonly byToken = new Map<string, Session>();
  private readonly ended: ((s: Session, reason: EndReason) => void)[] = [];
  readonly absoluteMs: number;

  constructor(readonly idleMs: number, private readonly now: () => number) {
    this.absoluteMs = Math.max(DAY_MS, idleMs);
  }

  get size(): number {
    return this.byToken.size;
  }

  create(username: string, role: Role, address: string): Session {
    const now = this.now();
    const s: Session = { token: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), username, role, address, createdAt: now, lastSeen: now };
    this.byToken.set(s.token, s);
    while (this.byToken.size > MAX_SESSIONS) this.end(this.byToken.keys().next().value!, 'replaced');
    return s;
  }

  /** The live session of `token`, or null (an expired one is ended here). Does not count as use. */
  get(token: string | undefined): Session | null {
    if (!token) return null;
    const s = this.byToken.get(token);
    if (!s) return null;
    if (this.expired(s)) {
      this.end(token, 'expired');
      return null;
    }
    return s;
  }

  /** A request of the session: its idle time starts again (and it is the most recently used). */
  touch(s: Session): void {
    s.lastSeen = this.now();
    this.byToken.delete(s.token);
    this.byToken.set(s.token, s);
  }

  /** When `s` expires if unused from now on (on the clock `now` reads). */
  expiresAt(s: Session): { idle: number; absolute: number } {
    return { idle: s.lastSeen + this.idleMs, absolute: s.createdAt + this.absoluteMs };
  }

  end(token: string, reason: EndReason): void {
    const s = this.byToken.get(token);
    if (!s) return;
    this.byToken.delete(token);
    for (const fn of this.ended) fn(s, reason);
  }

  /** Ends every expired session (a timer calls it, so live streams close on time). */
  sweep(): void {
    for (const s of [...this.byToken.values()]) if (this.expired(s)) this.end(s.token, 'expired');
  }

  onEnd(fn: (s: Session, reason: EndReason) => void): void {
    this.ended.push(fn);
  }

  private expired(s: Session): boolean {
    const now = this.now();
    return now - s.lastSeen >= this.idleMs || now - s.createdAt >= this.absoluteMs;
  }
}
