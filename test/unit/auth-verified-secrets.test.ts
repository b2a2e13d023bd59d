// The verified-secrets cache and the known-good keys (gateway/broker/verified-secrets.ts),
// with an injected clock.
import { describe, expect, it } from 'vitest';
import { RecentKeys, VerifiedSecrets } from '../../gateway/broker/verified-secrets.ts';

describe('VerifiedSecrets', () => {
  it('matches only the secret it verified, for that account and stored hash', () => {
    const t = 0;
    const v = new VerifiedSecrets(1000, () => t, 4);
    v.remember('rg1', 'hash-1', 'rg1-secret');
    expect(v.matches('rg1', 'hash-1', 'rg1-secret')).toBe(true);
    expect(v.matches('rg1', 'hash-1', 'rg1-secreT')).toBe(false);
    expect(v.matches('rg1', 'hash-2', 'rg1-secret')).toBe(false); // the secret_hash changed
    expect(v.matches('wl1', 'hash-1', 'rg1-secret')).toBe(false);
  });

  it('does not confuse where the username ends and the secret begins', () => {
    const v = new VerifiedSecrets(1000, () => 0, 4);
    v.remember('ab', 'h', 'c');
    expect(v.matches('a', 'h', 'bc')).toBe(false);
  });

  it('expires an entry ttl after its last use; use, or a session ending, keeps it', () => {
    let t = 0;
    const v = new VerifiedSecrets(1000, () => t, 4);
    v.remember('rg1', 'h', 's');
    t = 1000;
    expect(v.matches('rg1', 'h', 's')).toBe(true); // used at 1000
    t = 1900;
    v.touch('rg1'); // the session ended at 1900
    t = 2900;
    expect(v.matches('rg1', 'h', 's')).toBe(true);
    t = 3901;
    v.touch('rg1'); // too late: already expired
    expect(v.matches('rg1', 'h', 's')).toBe(false);
  });

  it('is bounded: one entry per account, at most maxEntries accounts', () => {
    const v = new VerifiedSecrets(1000, () => 0, 2);
    v.remember('a', 'h', 'old');
    v.remember('a', 'h', 'new');
    expect(v.matches('a', 'h', 'old')).toBe(false);
    v.remember('b', 'h', 's');
    v.remember('c', 'h', 's');
    expect(v.matches('a', 'h', 'new')).toBe(false);
    expect(v.matches('c', 'h', 's')).toBe(true);
  });
});

describe('RecentKeys', () => {
  it('knows a key until ttl after it was last seen, and forgets the oldest beyond its bound', () => {
    let t = 0;
    const k = new RecentKeys(100, () => t, 2);
    k.add('rg1@a');
    t = 90;
    k.touch('rg1@a');
    t = 180;
    expect(k.has('rg1@a')).toBe(true);
    t = 291;
    expect(k.has('rg1@a')).toBe(false);
    k.add('x');
    k.add('y');
    k.add('z');
    expect([k.has('x'), k.has('y'), k.has('z')]).toEqual([false, true, true]);
  });
});
