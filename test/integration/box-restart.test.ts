/**
 * A box restarted in the middle of a rainstorm keeps the rain that already fell: its rain
 * windows are rebuilt from the log, so the first reading after the restart raises red at once
 * instead of becoming a new baseline.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startBox } from '../../gateway/box.ts';
import type { AlertTransition } from '../../gateway/engine/types.ts';
import type { Clock } from '../../gateway/shell/clock.ts';
import { boxSite, pw } from '../helpers/box-site.ts';
import { until } from '../helpers/until.ts';

const T0 = Date.parse('2026-07-20T14:00:00+08:00');

function fakeClock(): Clock & { advance(ms: number): void } {
  let t = 0;
  return { wall: () => T0 + t, mono: () => t, trusted: () => true, boot: `b-${Math.random()}`, advance: (ms) => void (t += ms) };
}

async function run(dbPath: string, clock: ReturnType<typeof fakeClock>, totals: number[]): Promise<AlertTransition[]> {
  const config = await boxSite(dbPath);
  const box = await startBox({ config, log: pino({ level: 'silent' }), clock, tcpPort: 0, wsPort: 0 });
  const seen: AlertTransition[] = [];
  box.ctx.bus.on('transition', (t) => seen.push(t));
  let readings = 0;
  box.ctx.bus.on('reading', () => readings++);
  const rg = await mqtt.connectAsync(`mqtt://127.0.0.1:${box.broker.tcpPort}`, { protocolVersion: 4, username: 'rg1', password: pw('rg1'), reconnectPeriod: 0 });
  try {
    for (const [i, total] of totals.entries()) {
      clock.advance(60_000);
      await rg.publishAsync('sb/v1/itest/sensor/rg1/reading', JSON.stringify({ value: total, unit: 'mm' }), { qos: 1 });
      await until(`reading ${i}`, () => readings > i, 5000, 5);
    }
  } finally {
    await rg.endAsync();
    await box.stop();
  }
  return seen.filter((t) => t.kind === 'rain');
}

describe('a restart in the middle of a rainstorm', () => {
  it('rebuilds the rain windows from the log', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'sb-restart-')), 'box.db');
    const clock = fakeClock();
    // 60 minutes of 1.8 mm/min: 108 mm, red before the restart.
    const before = await run(db, clock, Array.from({ length: 61 }, (_, i) => 500 + i * 1.8));
    expect(before.map((t) => t.level)).toEqual(['orange', 'red']);
    clock.advance(5 * 60_000); // five minutes down
    const after = await run(db, clock, [500 + 60 * 1.8 + 0.2]);
    expect(after.map((t) => `${t.transition}:${t.level}`)).toEqual(['raised:red']);
    expect(after[0]!.values.rain_3h_mm).toBeCloseTo(108.2, 1);
  }, 60_000);
});
