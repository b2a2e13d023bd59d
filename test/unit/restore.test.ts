import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createCore, step } from '../../gateway/core.ts';
import { pristineOf, SNAPSHOT_VERSION, takeSnapshot } from '../../gateway/core-snapshot.ts';
import { activeAlerts } from '../../gateway/engine/evaluate.ts';
import { restoreCore, type RestoreSource } from '../../gateway/shell/restore.ts';
import type { HistoryRow, StoredSnapshot } from '../../gateway/store/event-store.ts';
import { site, T0 } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, stages: { warning: 2.5, guaranteed: 3.0 }, rise: [], raise_after_s: 30, clear_after_s: 60 }
`);
const log = pino({ level: 'silent' });

function source(rows: HistoryRow[], snapshot: StoredSnapshot | null = null): RestoreSource {
  return { snapshot: () => snapshot, history: (q) => rows.filter((r) => (q.raw.includes(r.sensor) ? r.atWall >= q.rawSince : false)) };
}

const wl = (atWall: number, value: number): HistoryRow => ({ sensor: 'wl1', atWall, value, quality: 'good' });

describe('restore from the log', () => {
  it('a level waiting out its duration when the box died is raised on time after the restart', () => {
    const core = createCore(cfg, T0 + 25_000);
    // 3.2 m since T0 (orange after 30 s); the box died at T0 + 20 s, before deciding.
    const r = restoreCore(core, pristineOf(createCore(cfg, T0)), cfg, source([wl(T0, 3.2), wl(T0 + 10_000, 3.2), wl(T0 + 20_000, 3.2)]), log, T0 + 25_000);
    expect(r.transitions).toEqual([]);
    const out = step(core, { type: 'reading', reading: { sensor: 'wl1', value: 3.2, at: T0 + 31_000, quality: 'good' } }, T0 + 31_000);
    expect(out.transitions.map((t) => `${t.transition}:${t.level}`)).toEqual(['raised:orange']);
  });

  it('what the readings after the snapshot decided, the previous run never acted on: it is returned', () => {
    const before = createCore(cfg, T0);
    step(before, { type: 'reading', reading: { sensor: 'wl1', value: 2.6, at: T0, quality: 'good' } }, T0);
    step(before, { type: 'tick' }, T0 + 30_000);
    expect(activeAlerts(before.engine).map((a) => a.level)).toEqual(['yellow']);
    const snap: StoredSnapshot = { version: SNAPSHOT_VERSION, seq: 9, atWall: T0 + 30_000, body: JSON.stringify(takeSnapshot(before, pristineOf(createCore(cfg, T0)), T0 + 30_000, T0 + 30_000)) };
    // After the snapshot the river went over 3.0 m for 40 s; the box died before its next tick.
    const rows = [wl(T0, 2.6), wl(T0 + 30_000, 2.6), wl(T0 + 31_000, 3.1), wl(T0 + 61_000, 3.1), wl(T0 + 71_000, 3.1)];
    const core = createCore(cfg, T0 + 80_000);
    const r = restoreCore(core, pristineOf(createCore(cfg, T0)), cfg, source(rows, snap), log, T0 + 80_000);
    expect(r.transitions.map((t) => `${t.transition}:${t.level}:${t.alert}`)).toEqual([`escalated:orange:wl1/stage/${T0 + 30_000}`]);
  });

  it('a snapshot that cannot be read is logged, and the box starts without it', () => {
    const lines: string[] = [];
    const capture = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
    const broken: RestoreSource = {
      snapshot: () => {
        throw new Error('disk I/O error');
      },
      history: () => [],
    };
    const core = createCore(cfg, T0);
    expect(() => restoreCore(core, pristineOf(createCore(cfg, T0)), cfg, broken, capture, T0)).not.toThrow();
    expect(lines.some((l) => l.includes('the snapshot could not be read'))).toBe(true);
    expect(activeAlerts(core.engine)).toEqual([]);
  });
});
