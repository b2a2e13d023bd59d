// A bus's keys: timeout_ms, retries and down_poll_s with their defaults (README, configuration).
import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';

const site = (bus: string): string => `
site: { id: t, name: t }
buses: [${bus}]
sensors: [{ id: rg1, kind: rain }]
`;

describe('bus config', () => {
  it('defaults: one retry, a per-try timeout by transport, a unit that is down asked every 30 s', () => {
    const { config } = parseConfig(site('{ id: b1, type: tcp, host: 127.0.0.1 }, { id: b2, type: rtu, path: /dev/ttyUSB0 }'));
    expect(config!.buses.map((b) => [b.timeoutMs, b.retries, b.downPollMs])).toEqual([
      [1000, 1, 30_000],
      [300, 1, 30_000],
    ]);
  });

  it('down_poll_s is taken in seconds, and refused outside 1 … 3600', () => {
    expect(parseConfig(site('{ id: b1, type: tcp, host: 127.0.0.1, down_poll_s: 2.5 }')).config!.buses[0]!.downPollMs).toBe(2500);
    for (const bad of [0.5, 3601]) {
      const problems = parseConfig(site(`{ id: b1, type: tcp, host: 127.0.0.1, down_poll_s: ${bad} }`)).problems.map(formatProblem);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^buses\[0\]\.down_poll_s: /);
    }
  });
});
