// Connection limits (connection-limits.ts): a total, not-yet-authenticated connections, and per
// account and per role; each refusal is clear, and a flood of them is one log line with counts.
import type { Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerOptions } from '../../gateway/broker/broker.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { BrokerRig, brokerSite, rawClient, rawConnect, until, type LogLine } from '../helpers/broker-rig.ts';

let config: SiteConfig;
let rig: BrokerRig | undefined;
let logs: LogLine[];
const sockets: Socket[] = [];

beforeAll(async () => {
  config = await brokerSite();
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await rig?.stop();
  rig = undefined;
});

async function start(connections: BrokerOptions['connections']): Promise<BrokerRig> {
  logs = [];
  rig = await BrokerRig.start(config, { connections }, logs);
  return rig;
}

/** A raw TCP connection that sends nothing; `closed` resolves if the broker closes it. */
async function silent(port: number): Promise<{ s: Socket; closed: Promise<void> }> {
  const c = await rawClient(port);
  c.s.on('error', () => undefined);
  sockets.push(c.s);
  return c;
}

const refusals = (): LogLine[] => logs.filter((l) => l.msg === 'connection refused: too many connections');

/** Whether `p` settles within `ms` (the broker closing a socket is prompt; this only bounds the wait). */
const settles = (p: Promise<unknown>, ms: number): Promise<boolean> => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('connection limits', () => {
  it('closes connections over the not-yet-authenticated limit at once, and logs the flood once', async () => {
    const r = await start({ unauthenticated: 3 });
    const held = await Promise.all([1, 2, 3].map(() => silent(r.broker.tcpPort)));
    const over = await Promise.all(Array.from({ length: 10 }, () => silent(r.broker.tcpPort)));
    await Promise.all(over.map((c) => c.closed));
    expect(await settles(held[0]!.closed, 200)).toBe(false);
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]).toMatchObject({ level: 40, limit: 'unauthenticated', max: 3, open: 3, unauthenticated: 3 });
    expect(r.broker.stats().refusedConnections).toBe(10);
    // Authenticating frees the place: a device gets in once one silent socket goes.
    held[0]!.s.destroy();
    await until(() => r.broker.stats().unauthenticatedConnections === 2, 'the broker to see the socket go');
    const rg1 = await r.connect('rg1');
    expect(rg1.connected).toBe(true);
  });

  it('refuses a connection over the total at accept', async () => {
    const r = await start({ total: 2 });
    await r.connect('rg1');
    await r.connect('wl1');
    const over = await silent(r.broker.tcpPort);
    await over.closed;
    expect(refusals()[0]).toMatchObject({ limit: 'total', max: 2, open: 2, unauthenticated: 0 });
  });

  it('answers CONNACK 3 over an account limit, lets the same client id take its session over, and logs once', async () => {
    const r = await start({ perAccount: { observer: 2 } });
    await r.connect('obs', { clientId: 'panel-a' });
    await r.connect('obs', { clientId: 'panel-b' });
    for (let i = 0; i < 5; i++) expect(await r.connackCode('obs', 'obs-secret-pass', { clientId: `extra-${i}` })).toBe(3);
    // A reconnect under a client id the account holds replaces that connection.
    const again = await r.connect('obs', { clientId: 'panel-a' });
    expect(again.connected).toBe(true);
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]).toMatchObject({ limit: 'account', max: 2, username: 'obs', role: 'observer', account_open: 2 });
    // Other accounts are not touched by it.
    await r.connect('li');
  });

  it('answers CONNACK 3 over a role limit', async () => {
    const r = await start({ perRole: { device: 2 } });
    await r.connect('rg1');
    await r.connect('wl1');
    expect(await r.connackCode('sm1', 'sm1-secret-pass')).toBe(3);
    expect(refusals()[0]).toMatchObject({ limit: 'role', max: 2, role: 'device', role_open: 2 });
  });

  it('counts WebSocket connections too, and frees their places when they close', async () => {
    const r = await start({ total: 2 });
    const url = `ws://127.0.0.1:${r.broker.wsPort}/mqtt`;
    const a = await r.connect('obs', { url, clientId: 'ws-a' });
    const b = await r.connect('li', { url });
    await expect(r.connect('zhen', { url })).rejects.toThrow();
    expect(refusals()[0]).toMatchObject({ limit: 'total', max: 2, open: 2 });
    await Promise.all([a.endAsync(), b.endAsync()]);
    await until(() => r.broker.stats().openConnections === 0, 'both places to be free');
    await r.connect('zhen', { url });
  });

  it('counts a raw CONNECT with a good secret as the account it is', async () => {
    const r = await start({ perAccount: { officer: 1 } });
    await r.connect('li');
    const c = await rawClient(r.broker.tcpPort);
    sockets.push(c.s);
    c.s.write(rawConnect('other', 'li'));
    // CONNACK with return code 3.
    await until(() => c.got().equals(Buffer.from([0x20, 0x02, 0x00, 0x03])), 'CONNACK 3');
  });
});
