/**
 * Who is connecting: the configured account, its secret checked against the stored scrypt
 * hash, behind gates that bound what password guessing can cost the box and that never let
 * a guesser keep a real device out (issue 15: 100 parallel guesses all ran scrypt; 40
 * rotating addresses guessed 20/s without limit; five guesses from a device's own address
 * kept it out for a minute; a legitimate connect waited 8–14 s behind floods).
 *
 * The path of one CONNECT, in order:
 * 1. No username: CONNACK 5. Unknown username: CONNACK 4, no scrypt.
 * 2. **Fast lane** (verified-secrets.ts): the secret matches the digest of the one verified
 *    lately for this account → accepted, one HMAC, no lockout and no rate. This is how a
 *    device gets back in after a power blip while its address is locked by someone else's
 *    guesses or a flood runs. A wrong guess misses it and goes on.
 * 3. **Lockout** (lockout.ts), keyed `username@address`, counted *before* the hash: a locked
 *    key, or one with as many checks in flight as failures left, is refused with CONNACK 5
 *    and no scrypt.
 * 4. **Lane**: a key that verified lately (RecentKeys, "known good") takes the reserved
 *    lane and pays no rate. Any other key takes the open lane and pays a token: a *first
 *    try* (no failure of this key in the lockout window) from the first-try bucket; a
 *    *retry* (it failed lately) from the global retry bucket and its username's retry
 *    bucket. A lane with no free slot and a full waiting list, or an empty bucket, refuses
 *    with **CONNACK 3 (server unavailable)** and no scrypt.
 * 5. scrypt (libuv's thread pool), then CONNACK 0 or 4; unless, when its turn comes, the
 *    cache matches after all (another CONNECT with the same secret verified meanwhile).
 *
 * Why first tries and retries pay apart: a guesser that keeps knocking from its addresses
 * has failed lately, so it spends the retry buckets, and a device arriving from a clean
 * address (a new DHCP lease, a box just restarted) does not queue behind it; measured before
 * this split, a device with no record got CONNACK 3 for as long as a 40-address guess loop
 * ran. Only a guesser with ever-fresh addresses reaches the first-try bucket, and then at
 * most its rate. The per-username retry bucket bounds guessing one account from many
 * addresses.
 *
 * Why CONNACK 3 for "busy", not 5: MQTT 3.1.1 §3.2.2.3 defines 3 as "the MQTT service is
 * unavailable", which is true and temporary; device stacks retry it, while many treat 4 and
 * 5 as a credentials problem and stop or back off for long, which would keep a real device
 * out for longer than the flood. It says nothing about the secret. The lockout keeps 5.
 *
 * Why these bounds (defaults in DEFAULT_GATE): the box has 2–4 cores and must keep one for
 * the alarm path, and libuv's pool has 4 threads that the event log's fdatasync also needs.
 * At most one open-lane and one reserved-lane scrypt run at once (≤ 2 pool threads; both
 * busy only while known devices reconnect, and the lockout bounds a known-good key to
 * `maxFailures` guesses a minute). The open lane takes at most 2 first tries/s (burst 20,
 * or one per account if more: every device comes back at once after a restart) and 3
 * retries/s (burst 10), one username at most one retry per 5 s (burst 5: a technician's
 * typos) from all addresses: at most 5 checks/s, about a quarter of one Pi core at 50 ms a
 * check. Waiting lists hold 16 checks each (scrypt's 16 MB is taken only by the 2 running);
 * a waiting client that disconnects costs no scrypt.
 *
 * Left open: the known-good keys and the cache live in this process, so right after the box
 * restarts a device is a first try like any other (its CONNACK 3, if the first-try bucket is
 * spent by fresh-address guessing, is retried by the device).
 */
import type { MqttAccount, SiteConfig } from '../config/types.ts';
import { verifySecret } from '../shell/secrets.ts';
import type { Principal } from './acl.ts';
import { CheckLane, KeyedBuckets, TokenBucket, type LanePolicy, type RatePolicy } from './auth-gate.ts';
import { FailureLockout, type LockoutPolicy } from './lockout.ts';
import { RecentKeys, VerifiedSecrets } from './verified-secrets.ts';

export { DEFAULT_LOCKOUT, FailureLockout, type LockoutPolicy } from './lockout.ts';

export interface GatePolicy {
  openLane: LanePolicy;
  reservedLane: LanePolicy;
  /** Open-lane checks of keys with no failure in the lockout window, all usernames together. */
  firstTryRate: RatePolicy;
  /** Open-lane checks of keys that failed lately, all usernames together. */
  rate: RatePolicy;
  /** Open-lane checks of keys of one username that failed lately, from every address. */
  usernameRate: RatePolicy;
  /** A verified secret is remembered this long after its last use. */
  verifiedTtlMs: number;
  /** A username@address that verified is known good this long after it was last seen. */
  knownGoodTtlMs: number;
}

const DAY = 24 * 3600_000;

export const DEFAULT_GATE: GatePolicy = {
  openLane: { concurrency: 1, perUsername: 1, maxWaiting: 16 },
  reservedLane: { concurrency: 1, perUsername: 1, maxWaiting: 16 },
  firstTryRate: { burst: 20, perSecond: 2 },
  rate: { burst: 10, perSecond: 3 },
  usernameRate: { burst: 5, perSecond: 0.2 },
  verifiedTtlMs: DAY,
  knownGoodTtlMs: 7 * DAY,
};

/** Known-good keys kept per account (a device seen from a few addresses over a week). */
const KNOWN_GOOD_PER_ACCOUNT = 8;

export type RefusalReason = 'anonymous' | 'unknown_user' | 'bad_secret' | 'locked_out' | 'busy' | 'gone';

export type AuthOutcome =
  | { ok: true; principal: Principal; lane: 'fast' | 'open' | 'reserved' }
  /**
   * `returnCode`: MQTT 3.1.1 §3.2.2.3: 3 = server unavailable (busy: try again), 4 = bad user
   * name or password, 5 = not authorized (anonymous, locked out).
   */
  | { ok: false; returnCode: 3 | 4 | 5; reason: RefusalReason; lockedForMs?: number };

/** Counters for BrokerStats and the benchmarks: what the gates did. */
export interface AuthStats {
  /** Accepted by the verified-secrets cache (no scrypt). */
  fastAccepts: number;
  /** scrypt checks run (open + reserved lanes). */
  slowChecks: number;
  /** Of which in the reserved lane. */
  reservedChecks: number;
  /** Refused by the lockout without scrypt. */
  lockedRefusals: number;
  /** Refused as busy (CONNACK 3) without scrypt: lane full or rate spent. */
  busyRefusals: number;
  /** Waited for a slot and left before their turn (no scrypt). */
  goneBeforeCheck: number;
}

/** The counters as log fields (snake_case, as every log line's fields are). */
export function authStatsFields(s: AuthStats): Record<string, number> {
  return {
    fast_accepts: s.fastAccepts,
    slow_checks: s.slowChecks,
    reserved_checks: s.reservedChecks,
    locked_refusals: s.lockedRefusals,
    busy_refusals: s.busyRefusals,
    gone_before_check: s.goneBeforeCheck,
  };
}

export type Verifier = (secret: string, stored: string) => Promise<boolean>;

export class Authenticator {
  private readonly accounts: Map<string, MqttAccount>;
  private readonly sensors: Set<string>;
  private readonly actuators: Set<string>;
  private readonly lockout: FailureLockout;
  private readonly verified: VerifiedSecrets;
  private readonly knownGood: RecentKeys;
  private readonly open: CheckLane;
  private readonly reserved: CheckLane;
  private readonly firstTryRate: TokenBucket;
  private readonly rate: TokenBucket;
  private readonly usernameRate: KeyedBuckets;
  private readonly counts: AuthStats = { fastAccepts: 0, slowChecks: 0, reservedChecks: 0, lockedRefusals: 0, busyRefusals: 0, goneBeforeCheck: 0 };

  constructor(config: SiteConfig, policy: LockoutPolicy, now: () => number, gate: GatePolicy = DEFAULT_GATE, private readonly verify: Verifier = verifySecret) {
    this.accounts = new Map(config.mqtt.accounts.map((a) => [a.username, a]));
    this.sensors = new Set(config.sensors.map((s) => s.id));
    this.actuators = new Set(config.actuators.map((a) => a.id));
    const n = Math.max(1, this.accounts.size);
    this.lockout = new FailureLockout(policy, now);
    this.verified = new VerifiedSecrets(gate.verifiedTtlMs, now, n);
    this.knownGood = new RecentKeys(gate.knownGoodTtlMs, now, n * KNOWN_GOOD_PER_ACCOUNT);
    this.open = new CheckLane(gate.openLane);
    this.reserved = new CheckLane(gate.reservedLane);
    // A box restart brings every device back at once: a first-try burst of at least one per account.
    this.firstTryRate = new TokenBucket({ ...gate.firstTryRate, burst: Math.max(gate.firstTryRate.burst, this.accounts.size) }, now);
    this.rate = new TokenBucket(gate.rate, now);
    this.usernameRate = new KeyedBuckets(gate.usernameRate, now, n);
  }

  stats(): AuthStats {
    return { ...this.counts };
  }

  /** `gone()`: true once the client has disconnected (a waiting check is then skipped). */
  async check(username: string | undefined, password: Buffer | undefined, remote: string, gone: () => boolean = () => false): Promise<AuthOutcome> {
    if (username === undefined || username === '') return { ok: false, returnCode: 5, reason: 'anonymous' };
    const account = this.accounts.get(username);
    if (!account) return { ok: false, returnCode: 4, reason: 'unknown_user' };
    const key = `${username}@${remote}`;
    const secret = password?.toString('utf8');
    if (secret !== undefined && this.verified.matches(username, account.secretHash, secret)) {
      this.counts.fastAccepts++;
      this.knownGood.add(key);
      return this.accepted(username, account, 'fast');
    }
    if (secret === undefined) {
      // Nothing to hash: a failed attempt that costs nothing, counted like a wrong secret.
      const locked = this.lockout.lockedFor(key);
      if (locked > 0) return this.lockedOut(locked);
      this.lockout.fail(key, false);
      return { ok: false, returnCode: 4, reason: 'bad_secret' };
    }
    const laneName = this.knownGood.has(key) ? 'reserved' : 'open';
    const lane = laneName === 'reserved' ? this.reserved : this.open;
    // The lockout first: an attempt is counted (reserved) before anything else may run it.
    const begun = this.lockout.begin(key);
    if (!begun.ok) return this.lockedOut(begun.lockedForMs);
    // Known-good keys pay no rate; a first try only the first-try bucket; a retry both retry buckets.
    const retry = laneName === 'open' && this.lockout.failedLately(key);
    const spent = laneName === 'open' && (retry ? !this.rate.available() || !this.usernameRate.available(username) : !this.firstTryRate.available());
    if (spent || !lane.hasRoom(username)) {
      this.lockout.abandon(key);
      return this.busy();
    }
    if (retry) {
      this.rate.take();
      this.usernameRate.take(username);
    } else if (laneName === 'open') this.firstTryRate.take();
    const release = await lane.tryEnter(username, gone)!;
    if (release === null) {
      this.lockout.abandon(key);
      this.counts.goneBeforeCheck++;
      return { ok: false, returnCode: 3, reason: 'gone' };
    }
    if (this.verified.matches(username, account.secretHash, secret)) {
      // Verified by another CONNECT while this one waited (a device's parallel reconnects).
      release();
      this.lockout.abandon(key);
      this.counts.fastAccepts++;
      this.knownGood.add(key);
      return this.accepted(username, account, 'fast');
    }
    let good: boolean;
    try {
      this.counts.slowChecks++;
      if (laneName === 'reserved') this.counts.reservedChecks++;
      good = await this.verify(secret, account.secretHash);
    } catch (err) {
      this.lockout.abandon(key);
      throw err;
    } finally {
      release();
    }
    if (!good) {
      const nowLocked = this.lockout.fail(key);
      return nowLocked ? { ok: false, returnCode: 4, reason: 'bad_secret', lockedForMs: this.lockout.lockedFor(key) } : { ok: false, returnCode: 4, reason: 'bad_secret' };
    }
    this.lockout.succeed(key);
    this.verified.remember(username, account.secretHash, secret);
    this.knownGood.add(key);
    return this.accepted(username, account, laneName);
  }

  /** An authenticated session of `username` from `remote` ended: its records count as used now. */
  sessionEnded(username: string, remote: string): void {
    this.verified.touch(username);
    this.knownGood.touch(`${username}@${remote}`);
  }

  private accepted(username: string, account: MqttAccount, lane: 'fast' | 'open' | 'reserved'): AuthOutcome {
    return {
      ok: true,
      lane,
      principal: { username, role: account.role, isSensor: this.sensors.has(username), isActuator: this.actuators.has(username) },
    };
  }

  private lockedOut(lockedForMs: number | undefined): AuthOutcome {
    this.counts.lockedRefusals++;
    return lockedForMs === undefined ? { ok: false, returnCode: 5, reason: 'locked_out' } : { ok: false, returnCode: 5, reason: 'locked_out', lockedForMs };
  }

  private busy(): AuthOutcome {
    this.counts.busyRefusals++;
    return { ok: false, returnCode: 3, reason: 'busy' };
  }
}
