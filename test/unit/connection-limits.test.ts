/** The broker's connection limits follow the site's accounts (connection-limits.ts). */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Connections, DEFAULT_CONNECTION_LIMITS, connectionLimits, siteConnectionLimits } from '../../gateway/broker/connection-limits.ts';

const accounts = (devices: number, officers = 2): { role: 'device' | 'officer' }[] => [
  ...Array.from({ length: devices }, () => ({ role: 'device' as const })),
  ...Array.from({ length: officers }, () => ({ role: 'officer' as const })),
];

describe('siteConnectionLimits', () => {
  it('keeps the defaults for a small site; the total is what the roles may hold plus the unauthenticated', () => {
    expect(siteConnectionLimits(accounts(50))).toEqual({ ...DEFAULT_CONNECTION_LIMITS, total: 480 + 32 + 8 + 32 + 64 });
  });

  it('lets every device of a 1,000-gauge site in, with room for half-open connections', () => {
    const l = siteConnectionLimits(accounts(1000));
    expect(l.perRole.device).toBe(1516);
    expect(l.unauthenticated).toBe(251);
    expect(l.total).toBe(1516 + 32 + 8 + 32 + 251);
    expect(l.perRole.officer).toBe(32);
  });

  it('takes overrides over the site limits', () => {
    const l = connectionLimits({ total: 10, perRole: { device: 3 } }, siteConnectionLimits(accounts(1000)));
    expect([l.total, l.perRole.device, l.unauthenticated]).toEqual([10, 3, 251]);
  });
});

describe('Connections', () => {
  it('counts a session takeover as no new connection, and forgets a closed one', () => {
    const c = new Connections(connectionLimits({ perAccount: { device: 1 } }));
    const [a, b, d] = [new EventEmitter(), new EventEmitter(), new EventEmitter()];
    for (const s of [a, b, d]) expect(c.accept(s)).toBeNull();
    expect(c.authenticated(a, 'rg1', 'device', 'rg1:x')).toBeNull();
    // Same account, same client id: takes the old session over (aedes closes the old one).
    expect(c.authenticated(b, 'rg1', 'device', 'rg1:x')).toBeNull();
    // Another client id of the same account is over its limit of 1.
    expect(c.authenticated(d, 'rg1', 'device', 'rg1:y')).toEqual({ limit: 'account', max: 1 });
    a.emit('close');
    b.emit('close');
    const e = new EventEmitter();
    expect(c.accept(e)).toBeNull();
    expect(c.authenticated(e, 'rg1', 'device', 'rg1:y')).toBeNull();
    expect(c.counts('rg1', 'device')).toMatchObject({ open: 2, unauthenticated: 1, account_open: 1, role_open: 1 });
  });
});
