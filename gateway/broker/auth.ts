/**
 * Who is connecting: the configured account, its secret checked against the stored scrypt
 * hash (async, on libuv's thread pool, so one slow check never blocks other clients), and a
 * failure lockout so the box does not spend its CPU on password guessing.
 *
 * The lockout is keyed by username *and* remote address: five wrong secrets for `rg1` from one
 * address lock out that address for `rg1`, not the real gauge on another address. A locked
 * key is refused without running scrypt, even with the right secret (otherwise the lockout
 * would still answer guesses). Unknown usernames never run scrypt, so they need no lockout;
 * they are refused and counted.
 */
import type { MqttAccount, SiteConfig } from '../config/types.ts';
import { verifySecret } from '../shell/secrets.ts';
import type { Principal } from './acl.ts';

export interface LockoutPolicy {
  /** This many failures within `windowMs`… */
  maxFailures: number;
  windowMs: number;
  /** …refuse the key for this long. */
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, windowMs: 60_000, lockMs: 60_000 };

/** Keys tracked at most; beyond it the oldest are forgotten (an attacker cannot grow memory). */
const MAX_KEYS = 4096;

export class FailureLockout {
  private readonly keys = new Map<string, { failures: number[]; lockedUntil: number }>();
  constructor(private readonly policy: LockoutPolicy, private readonly now: () => number) {}

  /** Milliseconds `key` stays locked (0 = not locked). */
  lockedFor(key: string): number {
    const e = this.keys.get(key);
    if (!e) return 0;
    return Math.max(0, e.lockedUntil - this.now());
  }

  /** Records a failure; true if `key` is now locked. */
  fail(key: string): boolean {
    const now = this.now();
    const e = this.keys.get(key) ?? { failures: [], lockedUntil: 0 };
    this.keys.delete(key); // re-insert: the map's order is least recently failed first
    e.failures = e.failures.filter((t) => now - t < this.policy.windowMs);
    e.failures.push(now);
    if (e.failures.length >= this.policy.maxFailures) {
      e.lockedUntil = now + this.policy.lockMs;
      e.failures = [];
    }
    this.keys.set(key, e);
    while (this.keys.size > MAX_KEYS) this.keys.delete(this.keys.keys().next().value!);
    return e.lockedUntil > now;
  }

  succeed(key: string): void {
    this.keys.delete(key);
  }
}

export type AuthOutcome =
  | { ok: true; principal: Principal }
  /** `returnCode`: MQTT 3.1.1 §3.2.2.3, 4 = bad user name or password, 5 = not authorized. */
  | { ok: false; returnCode: 4 | 5; reason: 'anonymous' | 'unknown_user' | 'bad_secret' | 'locked_out'; lockedForMs?: number };

export class Authenticator {
  private readonly accounts: Map<string, MqttAccount>;
  private readonly sensors: Set<string>;
  private readonly actuators: Set<string>;
  private readonly lockout: FailureLockout;

  constructor(config: SiteConfig, policy: LockoutPolicy, now: () => number) {
    this.accounts = new Map(config.mqtt.accounts.map((a) => [a.username, a]));
    this.sensors = new Set(config.sensors.map((s) => s.id));
    this.actuators = new Set(config.actuators.map((a) => a.id));
    this.lockout = new FailureLockout(policy, now);
  }

  async check(username: string | undefined, password: Buffer | undefined, remote: string): Promise<AuthOutcome> {
    if (username === undefined || username === '') return { ok: false, returnCode: 5, reason: 'anonymous' };
    const account = this.accounts.get(username);
    if (!account) return { ok: false, returnCode: 4, reason: 'unknown_user' };
    const key = `${username}@${remote}`;
    const locked = this.lockout.lockedFor(key);
    if (locked > 0) return { ok: false, returnCode: 5, reason: 'locked_out', lockedForMs: locked };
    const good = password !== undefined && (await verifySecret(password.toString('utf8'), account.secretHash));
    if (!good) {
      const nowLocked = this.lockout.fail(key);
      return nowLocked ? { ok: false, returnCode: 4, reason: 'bad_secret', lockedForMs: this.lockout.lockedFor(key) } : { ok: false, returnCode: 4, reason: 'bad_secret' };
    }
    this.lockout.succeed(key);
    return {
      ok: true,
      principal: { username, role: account.role, isSensor: this.sensors.has(username), isActuator: this.actuators.has(username) },
    };
  }
}
