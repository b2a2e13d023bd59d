/**
 * A box restarted in the middle of a rainstorm keeps the rain that already fell and the alert
 * it raised: the alert comes back from the log's snapshot (same id, no second raise), and the
 * rain windows are rebuilt from the log. Without a usable snapshot (a log from before it, one of
 * an unknown version, a corrupt one: logged and ignored) the windows are still rebuilt, so the
 * first reading after the restart raises red at once instead of becoming a new baseline.
 */
import { mkdtempSync } from 'node:fs';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
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

async function run(dbPath: string, clock: ReturnType<typeof fakeClock>, totals: number[], errors: string[] = []): Promise<{ seen: AlertTransition[]; active: string[]; retained: Record<string, unknown>[] }> {
  const config = await boxSite(dbPath);
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => void (errors.push(chunk.toString()), done()) });
  const box = await startBox({ config, log: pino({ level: 'error' }, sink), clock, tcpPort: 0, wsPort: 0 });
  const seen: AlertTransition[] = [];
  box.ctx.bus.on('transition', (t) => seen.push(t));
  let readings = 0;
  box.ctx.bus.on('reading', () => readings++);
  let active: string[] = [];
  const officer = await mqtt.connectAsync(`mqtt://127.0.0.1:${box.broker.tcpPort}`, { protocolVersion: 4, username: 'wang', password: pw('wang'), reconnectPeriod: 0 });
  const retained: Record<string, unknown>[] = [];
  officer.on('message', (_t, m, p) => void (p.retain && retained.push(JSON.parse(m.toString()) as Record<string, unknown>)));
  await officer.subscribeAsync('sb/v1/itest/alert/rg1/rain', { qos: 1 });
  await new Promise((r) => setTimeout(r, 100));
  const rg = await mqtt.connectAsync(`mqtt://127.0.0.1:${box.broker.tcpPort}`, { protocolVersion: 4, username: 'rg1', password: pw('rg1'), reconnectPeriod: 0 });
  try {
    for (const [i, total] of totals.entries()) {
      clock.advance(60_000);
      await rg.publishAsync('sb/v1/itest/sensor/rg1/reading', JSON.stringify({ value: total, unit: 'mm' }), { qos: 1 });
      await until(`reading ${i}`, () => readings > i, 5000, 5);
    }
    active = box.engine.active().filter((a) => a.kind === 'rain').map((a) => `${a.alert}:${a.level}`);
  } finally {
    await rg.endAsync();
    await officer.endAsync();
    await box.stop();
  }
  return { seen: seen.filter((t) => t.kind === 'rain'), active, retained };
}

/** 60 minutes of 1.8 mm/min: 108 mm, red before the restart; then five minutes down. */
async function storm(db: string, clock: ReturnType<typeof fakeClock>): Promise<AlertTransition[]> {
  const { seen } = await run(db, clock, Array.from({ length: 61 }, (_, i) => 500 + i * 1.8));
  expect(seen.map((t) => t.level)).toEqual(['orange', 'red']);
  clock.advance(5 * 60_000);
  return seen;
}

const tamper = (db: string, sql: string): void => {
  const d = new Database(db);
  d.prepare(sql).run();
  d.close();
};

describe('a restart in the middle of a rainstorm', () => {
  it('keeps the red alert (same id, not raised again) and the rain windows', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'sb-restart-')), 'box.db');
    const clock = fakeClock();
    const before = await storm(db, clock);
    const after = await run(db, clock, [500 + 60 * 1.8 + 0.2]);
    expect(after.seen).toEqual([]);
    expect(after.active).toEqual([`${before[1]!.alert}:red`]);
    // The broker's retained alert topic (in memory, lost with the process) says it again.
    expect(after.retained).toEqual([expect.objectContaining({ alert: before[1]!.alert, level: 'red', state: 'active' })]);
  }, 60_000);

  it.each([
    ['there is no snapshot (a log from before it)', 'DELETE FROM snapshot', null],
    ['the snapshot is of an unknown version (logged, ignored)', 'UPDATE snapshot SET version = 99', 'snapshot ignored'],
    ['the snapshot is corrupt (logged, ignored)', "UPDATE snapshot SET body = '{\"v\":1,\"slots\":'", 'snapshot ignored'],
    ['the snapshot cannot be applied (logged, ignored)', `UPDATE snapshot SET body = json_set(body, '$.planner', json('{"$nonsense":1}'))`, 'snapshot could not be applied'],
  ])('rebuilds the rain windows from the log when %s', async (_, sql, logged) => {
    const db = join(mkdtempSync(join(tmpdir(), 'sb-restart-')), 'box.db');
    const clock = fakeClock();
    await storm(db, clock);
    tamper(db, sql);
    const errors: string[] = [];
    const after = await run(db, clock, [500 + 60 * 1.8 + 0.2], errors);
    expect(after.seen.map((t) => `${t.transition}:${t.level}`)).toEqual(['raised:red']);
    expect(after.seen[0]!.values.rain_3h_mm).toBeCloseTo(108.2, 1);
    if (logged) expect(errors.some((e) => e.includes(logged))).toBe(true);
    else expect(errors).toEqual([]);
  }, 60_000);
});
