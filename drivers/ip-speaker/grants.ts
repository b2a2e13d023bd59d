/**
 * Who may fetch which broadcast's audio (pure but for the random token; the clock is passed in).
 * Each broadcast command to an IP speaker carries its own token for its own clip: 32 random
 * bytes, base64url. It opens that clip only, from the command until the broadcast ends for that
 * speaker (its `done`, a fault naming the activity, or the box stopping the broadcast: a
 * pre-empted message must not start playing late) and at most `ttlMs` after it was issued
 * (the planner's `broadcast_max_s`, after which it gives the speaker up anyway).
 *
 * Tokens are kept by their SHA-256, never as given: a lookup compares digests, so its timing says
 * nothing about a token, and a memory dump holds no usable one. An ended grant is remembered for
 * `REMEMBER_MS` so a speaker fetching late is told `token_expired`, not `token_invalid`.
 */
import { createHash, randomBytes } from 'node:crypto';

export const REMEMBER_MS = 10 * 60_000;

export interface Grant {
  clip: string;
  actuator: string;
  activity: string;
  issuedAt: number;
  /** When it stops opening the clip (ms, the box's monotonic clock). */
  expiresAt: number;
  /** Set when the broadcast ended before `expiresAt`. */
  endedAt: number | null;
}

export type Check = { ok: true; grant: Grant } | { ok: false; why: 'token_missing' | 'token_invalid' | 'token_expired' };

const digest = (token: string): string => createHash('sha256').update(token, 'utf8').digest('base64url');

export class Grants {
  private readonly byDigest = new Map<string, Grant>();

  constructor(private readonly random: () => string = () => randomBytes(32).toString('base64url')) {}

  /** A new token for `actuator` to fetch `clip` for broadcast `activity`. */
  issue(clip: string, actuator: string, activity: string, now: number, ttlMs: number): { token: string; grant: Grant } {
    this.sweep(now);
    const token = this.random();
    const grant: Grant = { clip, actuator, activity, issuedAt: now, expiresAt: now + ttlMs, endedAt: null };
    this.byDigest.set(digest(token), grant);
    return { token, grant };
  }

  /** Whether `token` opens `clip` now. A token for another clip is `token_invalid`: it says nothing of this one. */
  check(clip: string, token: string | null, now: number): Check {
    if (!token) return { ok: false, why: 'token_missing' };
    const grant = this.byDigest.get(digest(token));
    if (!grant || grant.clip !== clip) return { ok: false, why: 'token_invalid' };
    if (grant.endedAt !== null || now >= grant.expiresAt) return { ok: false, why: 'token_expired' };
    return { ok: true, grant };
  }

  /** The broadcast ended for this speaker: its tokens stop working. Returns how many ended. */
  end(actuator: string, activity: string, now: number): number {
    let n = 0;
    for (const g of this.byDigest.values()) {
      if (g.actuator === actuator && g.activity === activity && g.endedAt === null && now < g.expiresAt) {
        g.endedAt = now;
        n++;
      }
    }
    return n;
  }

  /** Whether a grant that still opens `clip` exists (its file must stay). */
  inUse(clip: string, now: number): boolean {
    for (const g of this.byDigest.values()) if (g.clip === clip && g.endedAt === null && now < g.expiresAt) return true;
    return false;
  }

  /** Forgets grants ended more than REMEMBER_MS ago. */
  sweep(now: number): void {
    for (const [d, g] of this.byDigest) if (now - (g.endedAt ?? g.expiresAt) >= REMEMBER_MS) this.byDigest.delete(d);
  }

  get size(): number {
    return this.byDigest.size;
  }
}
