/**
 * The per-sensor reading cap (shell/reading-cap.ts) and the engine runner around it: a device
 * flooding readings costs at most the cap in stored rows and engine steps, an alarm always
 * passes, the newest reading of a flood gets through at the next tick, and the drops are one
 * log line per interval with the count.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Bus } from '../../gateway/shell/bus.ts';
import type { Clock } from '../../gateway/shell/clock.ts';
import { EngineRunner } from '../../gateway/shell/engine-runner.ts';
import { BURST, LOG_INTERVAL_MS, ReadingCap, READINGS_PER_S } from '../../gateway/shell/reading-cap.ts';
import type { EventSink, EventTypeName } from '../../gateway/shell/record.ts';
import type { Reading } from '../../gateway/engine/types.ts';
import { site, T0 } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
zones: [{ id: b3, name: 3号楼 }]
sensors:
  - { id: sm1, kind: smoke, zone: b3 }
  - { id: sa1, kind: smoke, zone: b3, mode: analog, alarm_db_m: 0.2 }
  - { id: rg1, kind: rain }
`);
const sensors = new Map(cfg.sensors.map((s) => [s.id, s]));
const r = (sensor: string, value: number, at: number): Reading => ({ sensor, value, at, quality: 'good' });

describe('reading cap', () => {
  it(`lets ${BURST} through at once, then ${READINGS_PER_S}/s, and counts the rest`, () => {
    const cap = new ReadingCap(sensors);
    let passed = 0;
    for (let i = 0; i < 1000; i++) if (cap.admit(r('rg1', i, 0), T0, 0)) passed++;
    expect(passed).toBe(BURST);
    // One second later: a second's worth more.
    for (let i = 0; i < 1000; i++) if (cap.admit(r('rg1', 1000 + i, 1000 + i * 0.001), T0, 1000 + i * 0.001)) passed++;
    expect(passed).toBe(BURST + READINGS_PER_S);
  });

  it('a sensor at the flood bench rate (48/s) is never capped, nor are other sensors by one that floods', () => {
    const cap = new ReadingCap(sensors);
    let dropped = 0;
    for (let i = 0; i < 48 * 60; i++) {
      const at = (i * 1000) / 48;
      if (!cap.admit(r('rg1', i, at), T0, at)) dropped++;
      for (let k = 0; k < 60; k++) cap.admit(r('sm1', k % 2 ? 0 : 2, at), T0, at);
    }
    expect(dropped).toBe(0);
  });

  it('an alarm always passes, state or analog, however hard the detector floods', () => {
    const cap = new ReadingCap(sensors);
    for (let i = 0; i < BURST; i++) cap.admit(r('sm1', 2, 0), T0, 0);
    for (let i = 0; i < BURST; i++) cap.admit(r('sa1', 0.1, 0), T0, 0);
    expect(cap.admit(r('sm1', 0, 0), T0, 0)).toBe(false);
    expect(cap.admit(r('sm1', 1, 0), T0, 0)).toBe(true);
    expect(cap.admit(r('sa1', 0.19, 0), T0, 0)).toBe(false);
    expect(cap.admit(r('sa1', 0.2, 0), T0, 0)).toBe(true);
  });

  it('the newest dropped reading is handed on at the next tick, unless a newer one passed first', () => {
    const cap = new ReadingCap(sensors);
    for (let i = 0; i <= 1000; i++) cap.admit(r('rg1', i, i * 0.001), T0, i * 0.001);
    const { release } = cap.tick(10);
    expect(release.map((h) => h.reading.value)).toEqual([1000]);
    expect(cap.tick(20).release).toEqual([]);
    for (let i = 0; i <= BURST; i++) cap.admit(r('sm1', 2, 30), T0, 30);
    expect(cap.admit(r('sm1', 1, 30), T0, 30)).toBe(true); // an alarm passes, newer than what was held
    expect(cap.tick(40).release).toEqual([]);
  });

  it('drops are counted and reported once per interval per sensor', () => {
    const cap = new ReadingCap(sensors);
    for (let i = 0; i < 1000; i++) cap.admit(r('rg1', i, 0), T0, 0);
    expect(cap.tick(1000).reports).toEqual([{ sensor: 'rg1', dropped: 1000 - BURST, intervalS: 1 }]);
    for (let s = 1; s < 60; s++) {
      for (let i = 0; i < 1000; i++) cap.admit(r('rg1', s * 1000 + i, s * 1000 + i * 0.001), T0, s * 1000 + i * 0.001);
      if (s < 59) expect(cap.tick(s * 1000 + 999).reports).toEqual([]);
    }
    const reports = cap.tick(1000 + LOG_INTERVAL_MS).reports;
    expect(reports).toHaveLength(1);
    // About a second's worth passed each second (the bucket refills continuously), the rest counted.
    expect(reports[0]!.dropped).toBeGreaterThanOrEqual(59 * (1000 - READINGS_PER_S));
    expect(reports[0]!.dropped).toBeLessThanOrEqual(59 * (1000 - READINGS_PER_S + 1));
    expect(reports[0]!.intervalS).toBe(60); // since the first drop after the last report
  });
});

function fakeClock(): Clock & { advance(ms: number): void } {
  let mono = 0;
  return { wall: () => T0 + mono, mono: () => mono, trusted: () => true, boot: 'b1', advance: (ms) => void (mono += ms) };
}

class MemorySink implements EventSink {
  events: { type: EventTypeName; payload: unknown }[] = [];
  readings: number[] = [];
  appendMany(events: readonly { type: EventTypeName; payload: unknown }[]): number[] {
    return events.map((e) => this.events.push(e));
  }
  addReading(x: { value: number | null }): void {
    this.readings.push(x.value ?? Number.NaN);
  }
  saveSnapshot(): void {}
}

describe('the engine runner caps a flooding device', () => {
  it('stores and judges at most the cap, raises a fire at once in the flood, and logs the drops once', async () => {
    const lines: { msg: string; sensor?: string; dropped?: number }[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const bus = new Bus(log);
    const clock = fakeClock();
    const sink = new MemorySink();
    const runner = new EngineRunner({ config: cfg, bus, log, clock }, sink, 60_000);
    await runner.start();
    try {
      for (let i = 0; i < 3000; i++) {
        clock.advance(0.3); // 3,000 states/s
        bus.emit('reading', { sensor: 'sm1', value: i % 2 ? 0 : 2, at: clock.mono(), quality: 'good' });
      }
      expect(sink.readings.length).toBeLessThanOrEqual(BURST + READINGS_PER_S + 1);
      bus.emit('reading', { sensor: 'sm1', value: 1, at: clock.mono() + 0.1, quality: 'good' });
      expect(sink.events.some((e) => e.type === 'transition' && (e.payload as { zone: string }).zone === 'b3')).toBe(true);
      // The runner's tick (its timer is 60 s here: driven by hand through the private method).
      (runner as unknown as { tick(): void }).tick();
      const capped = lines.filter((l) => l.msg.includes('rate cap'));
      expect(capped).toHaveLength(1);
      expect(capped[0]).toMatchObject({ sensor: 'sm1', dropped: 3000 - (sink.readings.length - 1) });
    } finally {
      await runner.stop();
    }
  });
});
