// The Authenticator's rules (gateway/broker/auth.ts) with an injected clock and an injected
// verifier that runs the real scrypt check but only when the test lets it, so every check in
// flight can be counted and held.
import { beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, DEFAULT_GATE, type AuthOutcome, type GatePolicy } from '../../gateway/broker/auth.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { verifySecret } from '../../gateway/shell/secrets.ts';
import { brokerSite, secretOf } from '../helpers/broker-rig.ts';

let config: SiteConfig;
beforeAll(async () => {
  config = await brokerSite();
});

const LOCKOUT = { maxFailures: 5, windowMs: 60_000, lockMs: 60_000 };
const WIDE_RATE = { burst: 1000, perSecond: 1000 };
const WIDE: GatePolicy = { ...DEFAULT_GATE, firstTryRate: WIDE_RATE, rate: WIDE_RATE, usernameRate: WIDE_RATE };

/** Holds every scrypt check until `release()`; counts how many ran and how many at once. */
class HeldVerifier {
  calls = 0;
  active = 0;
  maxActive = 0;
  private held: (() => void)[] = [];
  hold = true;
  readonly verify = async (secret: string, stored: string): Promise<boolean> => {
    this.calls++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
    try {
      return await verifySecret(secret, stored);
    } finally {
      this.active--;
    }
  };
  /** Lets every held check go on, and those that start meanwhile, until all are done. */
  async drain(all: Promise<unknown>[]): Promise<void> {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
    await Promise.all(all);
  }
  /** Lets the oldest held check go on. */
  releaseOne(): void {
    this.held.shift()?.();
  }
  get waiting(): number {
    return this.held.length;
  }
}

function rig(gate: Partial<GatePolicy> = {}) {
  let t = 0;
  const v = new HeldVerifier();
  const auth = new Authenticator(config, LOCKOUT, () => t, { ...WIDE, ...gate }, v.verify);
  const check = (u: string, secret: string, remote: string, gone = () => false): Promise<AuthOutcome> => auth.check(u, Buffer.from(secret), remote, gone);
  return { auth, v, check, advance: (ms: number) => (t += ms) };
}

const codes = (rs: AuthOutcome[]) => rs.map((r) => (r.ok ? 0 : r.returnCode));
const count = (xs: number[], x: number) => xs.filter((c) => c === x).length;
const tick = () => new Promise((r) => setImmediate(r));

describe('Authenticator: attempts are counted before the hash', () => {
  it('runs at most maxFailures checks for 20 parallel wrong guesses from one address', async () => {
    const { v, check, auth } = rig({ openLane: { concurrency: 1, perUsername: 1, maxWaiting: 64 } });
    const all = Array.from({ length: 20 }, () => check('rg1', 'wrong-secret', '10.0.0.9'));
    await v.drain(all);
    const c = codes(await Promise.all(all));
    expect(v.calls).toBe(5);
    expect([count(c, 4), count(c, 5)]).toEqual([5, 15]);
    expect(await check('rg1', secretOf('rg1'), '10.0.0.9')).toMatchObject({ ok: false, returnCode: 5, reason: 'locked_out', lockedForMs: 60_000 });
    expect(auth.stats()).toMatchObject({ slowChecks: 5, lockedRefusals: 16 });
  });
});

describe('Authenticator: bounded slow checks', () => {
  it('runs one open-lane check at a time, lets 2 wait and refuses the rest as busy (CONNACK 3) without scrypt', async () => {
    const { v, check, auth } = rig({ openLane: { concurrency: 1, perUsername: 1, maxWaiting: 2 } });
    const all = Array.from({ length: 10 }, (_, i) => check(['rg1', 'wl1', 'sm1'][i % 3]!, 'wrong-secret', `10.0.1.${i}`));
    await tick();
    expect(v.active).toBe(1);
    await v.drain(all);
    const rs = await Promise.all(all);
    expect(codes(rs)).toEqual([4, 4, 4, 3, 3, 3, 3, 3, 3, 3]);
    expect(rs[3]).toMatchObject({ reason: 'busy' });
    expect(v.calls).toBe(3);
    expect(v.maxActive).toBe(1);
    expect(auth.stats()).toMatchObject({ slowChecks: 3, busyRefusals: 7 });
  });

  it('runs one check per username at a time within the open lane', async () => {
    const { v, check } = rig({ openLane: { concurrency: 3, perUsername: 1, maxWaiting: 8 } });
    const all = [check('rg1', 'x-secret-1', '10.0.2.1'), check('rg1', 'x-secret-2', '10.0.2.2'), check('wl1', 'x-secret-3', '10.0.2.3')];
    await tick();
    expect(v.active).toBe(2); // rg1 once, wl1 once; the second rg1 waits
    await v.drain(all);
    expect(v.maxActive).toBe(2);
  });

  it('takes first tries (addresses with no failure lately) at the first-try rate, from every address', async () => {
    const { v, check, advance } = rig({ firstTryRate: { burst: 10, perSecond: 1 } });
    v.hold = false;
    const first = [];
    for (let i = 0; i < 13; i++) first.push(await check(['rg1', 'wl1', 'sm1'][i % 3]!, 'wrong-secret', `10.0.3.${i}`));
    expect(codes(first)).toEqual([...Array(10).fill(4), 3, 3, 3]);
    expect(first[10]).toMatchObject({ reason: 'busy' });
    advance(1000);
    expect(codes([await check('li', 'wrong-secret', '10.0.3.9'), await check('li', 'wrong-secret', '10.0.3.10')])).toEqual([4, 3]);
    expect(v.calls).toBe(11);
  });

  it('allows a first-try burst of at least one per account (every device back after a restart)', async () => {
    const { v, check } = rig({ firstTryRate: { burst: 2, perSecond: 0.001 }, openLane: { concurrency: 1, perUsername: 1, maxWaiting: 64 } });
    v.hold = false;
    const users = config.mqtt.accounts.map((a) => a.username);
    const rs = await Promise.all(users.map((u, i) => check(u, secretOf(u), `10.0.16.${i}`)));
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(await check('rg1', 'wrong-secret', '10.0.16.99')).toMatchObject({ returnCode: 3, reason: 'busy' });
  });

  it('takes retries (addresses that failed lately) at the retry rate, all usernames together', async () => {
    const { v, check } = rig({ rate: { burst: 2, perSecond: 0.001 } });
    v.hold = false;
    const users = ['rg1', 'wl1', 'sm1'];
    for (let i = 0; i < 3; i++) expect((await check(users[i]!, 'wrong-secret', `10.0.13.${i}`)).ok).toBe(false); // first tries
    const retries = [];
    for (let i = 0; i < 3; i++) retries.push(await check(users[i]!, 'wrong-again', `10.0.13.${i}`));
    expect(codes(retries)).toEqual([4, 4, 3]);
    expect(v.calls).toBe(5);
  });

  it('takes one username’s retries at its own rate across addresses, other usernames unaffected', async () => {
    const { v, check, advance } = rig({ usernameRate: { burst: 2, perSecond: 0.5 } });
    v.hold = false;
    for (let i = 0; i < 5; i++) await check(i < 4 ? 'rg1' : 'wl1', 'wrong-secret', `10.0.4.${i}`); // first tries
    const rs = [];
    for (let i = 0; i < 4; i++) rs.push(await check('rg1', 'wrong-again', `10.0.4.${i}`));
    rs.push(await check('wl1', 'wrong-again', '10.0.4.4'));
    expect(codes(rs)).toEqual([4, 4, 3, 3, 4]);
    advance(2000);
    expect(codes([await check('rg1', 'wrong-again', '10.0.4.3')])).toEqual([4]);
  });

  it('does not hold a first try back when guessers have spent the retry buckets', async () => {
    const { v, check } = rig({ rate: { burst: 2, perSecond: 0.001 }, usernameRate: { burst: 2, perSecond: 0.001 } });
    v.hold = false;
    for (let i = 0; i < 3; i++) await check('rg1', 'wrong-secret', `10.0.14.${i}`);
    for (let i = 0; i < 3; i++) await check('rg1', 'wrong-again', `10.0.14.${i}`);
    expect(await check('rg1', 'wrong-more', '10.0.14.0')).toMatchObject({ returnCode: 3 }); // spent
    expect(await check('rg1', secretOf('rg1'), '10.0.14.99')).toMatchObject({ ok: true, lane: 'open' });
  });

  it('skips a waiting check whose client left, without scrypt', async () => {
    const { v, check, auth } = rig({ openLane: { concurrency: 1, perUsername: 1, maxWaiting: 4 } });
    let left = false;
    const first = check('rg1', 'wrong-secret', '10.0.5.1');
    const leaving = check('wl1', 'wrong-secret', '10.0.5.2', () => left);
    await tick();
    left = true;
    await v.drain([first, leaving]);
    expect(await leaving).toMatchObject({ ok: false, returnCode: 3, reason: 'gone' });
    expect(v.calls).toBe(1);
    expect(auth.stats().goneBeforeCheck).toBe(1);
  });
});

describe('Authenticator: the real device is never kept out by guesses', () => {
  it('lets a verified secret in through the cache while its username@address is locked', async () => {
    const { v, check } = rig();
    v.hold = false;
    expect(await check('rg1', secretOf('rg1'), '10.0.6.1')).toMatchObject({ ok: true, lane: 'open' });
    for (let i = 0; i < 5; i++) await check('rg1', 'wrong-secret', '10.0.6.1');
    expect(await check('rg1', 'wrong-secret', '10.0.6.1')).toMatchObject({ reason: 'locked_out' });
    const before = v.calls;
    expect(await check('rg1', secretOf('rg1'), '10.0.6.1')).toMatchObject({ ok: true, lane: 'fast' });
    expect(v.calls).toBe(before); // no scrypt
  });

  it('lets a verified secret in through the cache while the open lane is full and the rates are spent', async () => {
    const { v, check } = rig({ openLane: { concurrency: 1, perUsername: 1, maxWaiting: 1 }, firstTryRate: { burst: 3, perSecond: 0.001 } });
    v.hold = false;
    expect((await check('rg1', secretOf('rg1'), '10.0.7.1')).ok).toBe(true);
    v.hold = true;
    const flood = Array.from({ length: 30 }, (_, i) => check('rg1', `guess-${i}`, `10.0.8.${i}`));
    await tick();
    expect(await check('rg1', secretOf('rg1'), '10.0.7.1')).toMatchObject({ ok: true, lane: 'fast' });
    await v.drain(flood);
  });

  it('runs scrypt once for a device’s parallel reconnects: the waiting ones find the cache filled', async () => {
    const { v, check } = rig();
    const all = Array.from({ length: 4 }, () => check('rg1', secretOf('rg1'), '10.0.15.1'));
    await tick();
    await v.drain(all);
    expect((await Promise.all(all)).map((r) => r.ok && r.lane)).toEqual(['open', 'fast', 'fast', 'fast']);
    expect(v.calls).toBe(1);
  });

  it('does not let a wrong guess use the cache: it goes to the slow lane and counts', async () => {
    const { v, check } = rig();
    v.hold = false;
    await check('rg1', secretOf('rg1'), '10.0.9.1');
    expect(await check('rg1', 'wrong-secret', '10.0.9.2')).toMatchObject({ ok: false, returnCode: 4, reason: 'bad_secret' });
    expect(v.calls).toBe(2);
  });

  it('checks a known-good username@address in the reserved lane once the cache has expired, past a full open lane', async () => {
    const { v, check, advance } = rig({ verifiedTtlMs: 1000, openLane: { concurrency: 1, perUsername: 1, maxWaiting: 1 }, firstTryRate: { burst: 3, perSecond: 0.001 } });
    v.hold = false;
    expect(await check('rg1', secretOf('rg1'), '10.0.10.1')).toMatchObject({ ok: true, lane: 'open' });
    advance(2000);
    v.hold = true;
    const flood = Array.from({ length: 10 }, (_, i) => check('rg1', `guess-${i}`, `10.0.11.${i}`));
    await tick();
    expect(v.waiting).toBe(1); // the open lane is busy, and the rest refused
    const device = check('rg1', secretOf('rg1'), '10.0.10.1');
    await tick();
    expect(v.waiting).toBe(2); // running beside the open lane's check, not behind it
    v.releaseOne(); // the flood's check
    v.releaseOne(); // the device's
    expect(await device).toMatchObject({ ok: true, lane: 'reserved' });
    await v.drain(flood);
    expect(codes(await Promise.all(flood)).filter((c) => c === 3).length).toBeGreaterThan(0);
  });

  it('still refuses a locked key’s slow checks, known good or not', async () => {
    const { v, check, advance } = rig({ verifiedTtlMs: 1000 });
    v.hold = false;
    await check('rg1', secretOf('rg1'), '10.0.12.1');
    advance(2000); // the cache entry has expired; the key is still known good
    for (let i = 0; i < 5; i++) await check('rg1', 'wrong-secret', '10.0.12.1');
    const before = v.calls;
    expect(await check('rg1', secretOf('rg1'), '10.0.12.1')).toMatchObject({ ok: false, returnCode: 5, reason: 'locked_out' });
    expect(v.calls).toBe(before);
  });
});
