/** A BoxContext for serial driver tests: a tiny smoke site, a real Bus, the system clock. */
import pino, { type Logger } from 'pino';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';
import type { Reading } from '../../gateway/engine/types.ts';
import { Bus } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import type { BoxContext } from '../../gateway/shell/module.ts';

/** sm1 is a state detector, sm2 an analog one (alarm at 0.5 dB/m), rg1 a rain gauge for VAL lines. */
export const SERIAL_SITE = `
site: { id: serialtest, name: 测试村 }
zones: [{ id: b3, name: 3号楼 }]
sensors:
  - { id: sm1, kind: smoke, zone: b3 }
  - { id: sm2, kind: smoke, zone: b3, mode: analog, alarm_db_m: 0.5 }
  - { id: rg1, kind: rain }
`;

export interface SerialRig {
  ctx: BoxContext;
  /** Every reading emitted on the bus, in order. */
  readings: Reading[];
  /** Resolves when at least `n` readings have arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<Reading[]>;
}

export function serialRig(yaml = SERIAL_SITE, log: Logger = pino({ level: 'silent' })): SerialRig {
  const { config, problems } = parseConfig(yaml);
  if (!config) throw new Error(problems.map(formatProblem).join('\n'));
  const ctx: BoxContext = { config, bus: new Bus(log), log, clock: systemClock() };
  const readings: Reading[] = [];
  ctx.bus.on('reading', (r) => readings.push(r));
  return {
    ctx,
    readings,
    waitFor(n, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const check = (): void => {
          if (readings.length >= n) resolve(readings);
          else if (Date.now() - t0 > timeoutMs) reject(new Error(`${readings.length} of ${n} readings after ${timeoutMs} ms`));
          else setTimeout(check, 10);
        };
        check();
      });
    },
  };
}
