// Password guessing against the embedded broker (issue 15): real Aedes on 127.0.0.1, real
// mqtt.js clients bound to other loopback source addresses (127.0.0.2… all reach a listener
// on 127.0.0.1), so the lockout sees distinct addresses. Checks are counted through an
// injected verifier that runs the real scrypt check (held when a test needs checks in
// flight) and from the CONNACK codes: 4 means a scrypt check ran and said no, 3 and 5 that
// none ran. Assertions are on counts and order, never on milliseconds.
import { connect as netConnect } from 'node:net';
import mqtt from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GatePolicy } from '../../gateway/broker/auth.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { hashSecret, verifySecret } from '../../gateway/shell/secrets.ts';
import { BrokerRig, brokerSite, secretOf, until } from '../helpers/broker-rig.ts';

let config: SiteConfig;
let rig: BrokerRig | undefined;

beforeAll(async () => {
  config = await brokerSite();
});

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** The CONNACK code one CONNECT from `localAddress` gets (0 = accepted). */
function connackFrom(localAddress: string, username: string, password: string): Promise<number> {
  const port = rig!.broker.tcpPort;
  return new Promise((resolve) => {
    const c = new mqtt.MqttClient(() => netConnect({ host: '127.0.0.1', port, localAddress }), { protocolVersion: 4, username, password, reconnectPeriod: 0, connectTimeout: 30_000 });
    const done = (code: number) => {
      c.end(true);
      resolve(code);
    };
    c.once('connect', () => done(0));
    c.once('error', (err: Error & { code?: unknown }) => done(typeof err.code === 'number' ? err.code : -1));
    c.once('close', () => done(-1));
  });
}

/** 127.0.<n / 250>.<2 + n % 250>: a distinct loopback address per n. */
const addr = (n: number) => `127.0.${Math.floor(n / 250) + 1}.${(n % 250) + 2}`;
const count = (xs: number[], x: number) => xs.filter((c) => c === x).length;

/** The real scrypt check, counted, and held while `hold` is true. */
class Verifier {
  calls = 0;
  active = 0;
  hold = false;
  private held: (() => void)[] = [];
  readonly verify = async (secret: string, stored: string): Promise<boolean> => {
    this.calls++;
    this.active++;
    try {
      if (this.hold) await new Promise<void>((r) => this.held.push(r));
      return await verifySecret(secret, stored);
    } finally {
      this.active--;
    }
  };
  releaseAll(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }
}

async function start(gate: Partial<GatePolicy> = {}, site = config): Promise<Verifier> {
  const v = new Verifier();
  rig = await BrokerRig.start(site, { lockout: { maxFailures: 5, windowMs: 60_000, lockMs: 60_000 }, authGate: gate, verifySecret: v.verify });
  return v;
}

describe('broker: password guessing is bounded', () => {
  it('runs at most maxFailures scrypt checks for 40 parallel wrong CONNECTs from one address', async () => {
    const v = await start({ openLane: { concurrency: 1, perUsername: 1, maxWaiting: 64 } });
    const codes = await Promise.all(Array.from({ length: 40 }, () => connackFrom('127.0.0.2', 'rg1', 'wrong-secret')));
    expect([count(codes, 4), count(codes, 5)]).toEqual([5, 35]); // before: 40 × CONNACK 4
    expect(v.calls).toBe(5);
    expect(rig!.broker.stats().auth).toMatchObject({ slowChecks: 5, lockedRefusals: 35 });
  });

  it('takes first tries at the first-try rate from any number of addresses, refusing the rest with CONNACK 3 and no scrypt', async () => {
    const v = await start({ firstTryRate: { burst: 12, perSecond: 0.001 } });
    const users = ['rg1', 'wl1', 'sm1', 'li', 'obs'];
    const codes = await Promise.all(Array.from({ length: 40 }, (_, i) => connackFrom(addr(i), users[i % users.length]!, `wrong-${i}`)));
    expect([count(codes, 4), count(codes, 3)]).toEqual([12, 28]); // before: 40 × CONNACK 4
    expect(v.calls).toBe(12);
    expect(rig!.broker.stats().auth).toMatchObject({ slowChecks: 12, busyRefusals: 28 });
  });

  it('takes retries at the per-username and the global retry rate across addresses', async () => {
    const v = await start({ openLane: { concurrency: 1, perUsername: 1, maxWaiting: 64 }, firstTryRate: { burst: 100, perSecond: 1 }, rate: { burst: 6, perSecond: 0.001 }, usernameRate: { burst: 4, perSecond: 0.001 } });
    const first = await Promise.all(Array.from({ length: 30 }, (_, i) => connackFrom(addr(i), i < 20 ? 'rg1' : 'wl1', `wrong-${i}`)));
    expect(count(first, 4)).toBe(30); // first tries, each from its own address
    const rg1 = await Promise.all(Array.from({ length: 20 }, (_, i) => connackFrom(addr(i), 'rg1', `again-${i}`)));
    expect([count(rg1, 4), count(rg1, 3)]).toEqual([4, 16]); // rg1's retry bucket
    const wl1 = await Promise.all(Array.from({ length: 10 }, (_, i) => connackFrom(addr(20 + i), 'wl1', `again-${i}`)));
    expect([count(wl1, 4), count(wl1, 3)]).toEqual([2, 8]); // what is left of the global one
    expect(v.calls).toBe(36);
  });

  it('runs one check at a time and lets a bounded list wait; the rest are refused at once', async () => {
    const v = await start({ openLane: { concurrency: 1, perUsername: 1, maxWaiting: 3 } });
    v.hold = true;
    const users = ['rg1', 'wl1', 'sm1', 'sm2', 'li'];
    const flood = Array.from({ length: 20 }, (_, i) => connackFrom(addr(i), users[i % users.length]!, `wrong-${i}`));
    await until(() => rig!.broker.stats().auth.busyRefusals === 16, 'all but four refused as busy');
    expect([v.calls, v.active]).toEqual([1, 1]); // one running, three waiting
    v.releaseAll();
    const codes = await Promise.all(flood);
    expect([count(codes, 4), count(codes, 3)]).toEqual([4, 16]);
    expect(v.calls).toBe(4);
  });
});

describe('broker: guesses never keep a real device out', () => {
  it('lets the device in while an attacker has locked its username@address', async () => {
    const v = await start();
    expect(await connackFrom('127.0.0.5', 'rg1', secretOf('rg1'))).toBe(0);
    for (let i = 0; i < 5; i++) expect(await connackFrom('127.0.0.5', 'rg1', `guess-${i}`)).toBe(4);
    expect(await connackFrom('127.0.0.5', 'rg1', 'guess-again')).toBe(5); // locked
    expect(await connackFrom('127.0.0.5', 'rg1', secretOf('rg1'))).toBe(0); // before: 5 for a minute
    expect(v.calls).toBe(6); // the device's second connect ran no scrypt
  });

  it('lets the device in during a guess flood on its own username before the flood’s checks are done', async () => {
    // The attacked account has the production scrypt cost, so the flood's checks take a while.
    const slow = await brokerSiteWithProductionHash('rg1');
    await start({}, slow);
    expect(await connackFrom('127.0.0.6', 'rg1', secretOf('rg1'))).toBe(0);
    const order: string[] = [];
    const flood = Array.from({ length: 200 }, (_, i) => connackFrom(addr(i), 'rg1', `guess-${i}`).then((c) => (order.push(`flood:${c}`), c)));
    await until(() => order.length > 0, 'the first answer to the flood', 20_000);
    const device = await connackFrom('127.0.0.6', 'rg1', secretOf('rg1'));
    order.push(`device:${device}`);
    await Promise.all(flood);
    expect(device).toBe(0);
    // Before: the device's check queued behind the flood's ~200 scrypt runs and came last.
    expect(order.indexOf('device:0')).toBeLessThan(order.lastIndexOf('flood:4'));
  });

  it('checks a known-good device in the reserved lane when its cached secret has expired, past a held open lane', async () => {
    const v = await start({ verifiedTtlMs: 0, openLane: { concurrency: 1, perUsername: 1, maxWaiting: 2 } });
    expect(await connackFrom('127.0.0.7', 'rg1', secretOf('rg1'))).toBe(0);
    await new Promise((r) => setTimeout(r, 5)); // past the 0 ms lifetime of its cached secret
    v.hold = true;
    const flood = Array.from({ length: 20 }, (_, i) => connackFrom(addr(i), 'rg1', `guess-${i}`));
    await until(() => rig!.broker.stats().auth.busyRefusals === 17, 'the open lane full, the rest refused');
    const device = connackFrom('127.0.0.7', 'rg1', secretOf('rg1'));
    await until(() => v.calls === 3, 'the device’s check to start beside the held one');
    v.releaseAll();
    expect(await device).toBe(0);
    expect(rig!.broker.stats().auth.reservedChecks).toBe(1);
    await Promise.all(flood);
  });

  it('answers a storm of authenticated connects from the cache: one scrypt check in all', async () => {
    const v = await start();
    expect(await connackFrom('127.0.0.8', 'wl1', secretOf('wl1'))).toBe(0);
    const storm = await Promise.all(Array.from({ length: 200 }, (_, i) => connackFrom(addr(i), 'wl1', secretOf('wl1'))));
    expect(count(storm, 0)).toBe(200);
    expect(v.calls).toBe(1);
    expect(rig!.broker.stats().auth.fastAccepts).toBe(200);
  });
});

/** The test site, with `username`'s secret hashed at the production scrypt cost. */
async function brokerSiteWithProductionHash(username: string): Promise<SiteConfig> {
  const hash = await hashSecret(secretOf(username));
  return { ...config, mqtt: { ...config.mqtt, accounts: config.mqtt.accounts.map((a) => (a.username === username ? { ...a, secretHash: hash } : a)) } };
}
