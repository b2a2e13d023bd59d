import { describe, expect, it } from 'vitest';
import { jitteredDelay } from '../../gateway/uplink/uplink.ts';

const P = { firstMs: 1000, maxMs: 60_000 };

describe('uplink reconnect backoff', () => {
  it('doubles from 1 s to 60 s, each delay between half and all of its step', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => jitteredDelay(n, P, () => 1))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect([0, 1, 6, 20].map((n) => jitteredDelay(n, P, () => 0))).toEqual([500, 1000, 30000, 30000]);
  });

  it('is spread: boxes that lost the link together do not come back together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => jitteredDelay(3, P)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(4000), expect(d).toBeLessThanOrEqual(8000);
  });
});
