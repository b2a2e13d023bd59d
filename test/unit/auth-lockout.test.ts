// The failure lockout (gateway/broker/lockout.ts): attempts counted before the hash, with an
// injected clock.
import { describe, expect, it } from 'vitest';
import { FailureLockout } from '../../gateway/broker/lockout.ts';

const policy = { maxFailures: 3, windowMs: 10_000, lockMs: 5_000 };

function rig() {
  let t = 0;
  const lockout = new FailureLockout(policy, () => t);
  return { lockout, advance: (ms: number) => (t += ms) };
}

describe('FailureLockout', () => {
  it('counts an attempt when it begins: no more checks in flight than failures left', () => {
    const { lockout } = rig();
    expect([1, 2, 3].map(() => lockout.begin('rg1@a').ok)).toEqual([true, true, true]);
    expect(lockout.begin('rg1@a')).toEqual({ ok: false, lockedForMs: undefined });
    expect(lockout.begin('rg1@b').ok).toBe(true); // another address is another key
    expect(lockout.fail('rg1@a')).toBe(false);
    expect(lockout.fail('rg1@a')).toBe(false);
    expect(lockout.fail('rg1@a')).toBe(true); // the last in-flight failure locks it
    expect(lockout.begin('rg1@a')).toEqual({ ok: false, lockedForMs: 5_000 });
  });

  it('frees the reservation of a check that never ran, and of one that succeeded', () => {
    const { lockout } = rig();
    lockout.begin('k');
    lockout.begin('k');
    lockout.begin('k');
    lockout.abandon('k');
    expect(lockout.begin('k').ok).toBe(true);
    lockout.succeed('k');
    expect(lockout.begin('k').ok).toBe(true);
  });

  it('forgives the failures of a key that succeeds, keeping its other checks in flight counted', () => {
    const { lockout } = rig();
    lockout.begin('k');
    lockout.fail('k');
    lockout.begin('k');
    lockout.begin('k'); // one failure + two in flight = 3
    expect(lockout.begin('k').ok).toBe(false);
    lockout.succeed('k'); // failures forgiven; one still in flight
    expect(lockout.begin('k').ok).toBe(true);
    expect(lockout.begin('k').ok).toBe(true);
    expect(lockout.begin('k').ok).toBe(false);
  });

  it('lets failures age out of the window and the lock run out', () => {
    const { lockout, advance } = rig();
    lockout.fail('k', false);
    lockout.fail('k', false);
    advance(10_000);
    expect(lockout.fail('k', false)).toBe(false); // the first two are out of the window
    lockout.fail('k', false);
    expect(lockout.fail('k', false)).toBe(true);
    advance(4_999);
    expect(lockout.lockedFor('k')).toBe(1);
    advance(1);
    expect(lockout.lockedFor('k')).toBe(0);
    expect(lockout.begin('k').ok).toBe(true);
  });

  it('tracks a bounded number of keys: the least recently failed are forgotten', () => {
    const { lockout } = rig();
    for (let i = 0; i < 3; i++) lockout.fail('victim@a', false);
    expect(lockout.lockedFor('victim@a')).toBe(5_000);
    for (let i = 0; i < 5000; i++) lockout.fail(`x@${i}`, false);
    expect(lockout.lockedFor('victim@a')).toBe(0);
  });
});
