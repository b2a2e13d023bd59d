/**
 * What the box remembers about secrets it verified lately, so a real device gets back in
 * within a second whatever else is knocking (pure apart from the random key; clock injected).
 *
 * - **VerifiedSecrets**: per account, an HMAC-SHA-256 under a per-process random key of
 *   (username, stored hash, secret) — never the secret itself. A CONNECT whose secret gives
 *   the same digest (constant-time compare) is let in without scrypt, the lockout or the
 *   rates: a wrong guess cannot use it (it misses and goes to the bounded slow lane), and a
 *   right one would pass scrypt anyway. The stored hash is in the digest, so a changed
 *   secret_hash never matches an old entry. One entry per account (an account has one
 *   secret), so the cache is bounded by the accounts. An entry expires `ttlMs` after it was
 *   last used: verified, let in by it, or its session ended (`touch`), so a device connected
 *   for weeks still finds it after a power blip. Why expire at all: the digest and key in
 *   memory would let someone who dumps the process test guesses at HMAC speed instead of
 *   scrypt speed, so an account unused for a day loses that shortcut.
 * - **RecentKeys**: `username@address` pairs that verified lately ("known good"). Their slow
 *   checks use a lane of their own, so when the cache has expired they do not queue behind
 *   a guess flood. Bounded (least recently seen forgotten) and expiring.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class VerifiedSecrets {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { digest: Buffer; lastUsed: number }>();
  constructor(private readonly ttlMs: number, private readonly now: () => number, private readonly maxEntries: number) {}

  /** True if `secret` is the one last verified for `username` under `storedHash`, and not expired. */
  matches(username: string, storedHash: string, secret: string): boolean {
    const e = this.entries.get(username);
    if (!e) return false;
    if (this.now() - e.lastUsed > this.ttlMs) {
      this.entries.delete(username);
      return false;
    }
    if (!timingSafeEqual(e.digest, this.digest(username, storedHash, secret))) return false;
    e.lastUsed = this.now();
    return true;
  }

  /** After scrypt said yes. */
  remember(username: string, storedHash: string, secret: string): void {
    this.entries.delete(username);
    this.entries.set(username, { digest: this.digest(username, storedHash, secret), lastUsed: this.now() });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The account's session just ended: its entry counts as used now. */
  touch(username: string): void {
    const e = this.entries.get(username);
    if (e && this.now() - e.lastUsed <= this.ttlMs) e.lastUsed = this.now();
  }

  private digest(username: string, storedHash: string, secret: string): Buffer {
    const h = createHmac('sha256', this.key);
    // Length-prefixed, so no two (username, hash, secret) triples share an input.
    for (const part of [username, storedHash, secret]) {
      const b = Buffer.from(part, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      h.update(len).update(b);
    }
    return h.digest();
  }
}

export class RecentKeys {
  private readonly seen = new Map<string, number>();
  constructor(private readonly ttlMs: number, private readonly now: () => number, private readonly max: number) {}

  has(key: string): boolean {
    const at = this.seen.get(key);
    if (at === undefined) return false;
    if (this.now() - at > this.ttlMs) {
      this.seen.delete(key);
      return false;
    }
    return true;
  }

  add(key: string): void {
    this.seen.delete(key);
    this.seen.set(key, this.now());
    while (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!);
  }

  /** Refreshes `key` if it is still known. */
  touch(key: string): void {
    if (this.has(key)) this.add(key);
  }
}
