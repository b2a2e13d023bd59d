import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN, openStore, T0, tempDir, type StoreRig } from '../helpers/store-rig.ts';

let rig: StoreRig | null = null;
afterEach(async () => {
  await rig?.store.stop();
  rig = null;
});

/** 30 events a minute apart: transitions in zones b3 / site, effects, commands with zones. */
async function filled(): Promise<StoreRig> {
  rig = await openStore(join(tempDir(), 'q.db'));
  const { store, clock } = rig;
  for (let i = 0; i < 30; i++) {
    if (i % 3 === 0) store.append('transition', { alert: `a${i}`, zone: i % 2 ? 'b3' : 'site', textZh: '暴雨预警' });
    else if (i % 3 === 1) store.append('effect', { type: 'siren', zone: 'site' });
    else store.append('command', { command: { type: 'broadcast', zones: ['b3'] }, by: 'wang' });
    clock.advance(MIN);
  }
  return rig;
}

describe('event store: filtered, bounded pages', () => {
  it('filters by type, zone and time, in seq order', async () => {
    const { store } = await filled();
    expect(store.eventsPage({ types: ['transition'] }, 0, 100).events.map((e) => e.seq)).toEqual([1, 4, 7, 10, 13, 16, 19, 22, 25, 28]);
    // zone b3: transitions of odd i, and every command (command.zones)
    const b3 = store.eventsPage({ zone: 'b3' }, 0, 100).events;
    expect(b3.every((e) => e.type === 'command' || (e.payload as { zone: string }).zone === 'b3')).toBe(true);
    expect(b3.filter((e) => e.type === 'command')).toHaveLength(10);
    expect(b3.filter((e) => e.type === 'transition').map((e) => e.seq)).toEqual([4, 10, 16, 22, 28]);
    const timed = store.eventsPage({ since: T0 + 10 * MIN, until: T0 + 13 * MIN }, 0, 100).events;
    expect(timed.map((e) => e.seq)).toEqual([11, 12, 13]);
    expect((store.eventsPage({ types: ['transition'] }, 0, 1).events[0]!.payload as { textZh: string }).textZh).toBe('暴雨预警');
  });

  it('a page examines at most scanRows seqs and says where to go on', async () => {
    const { store } = await filled();
    const p1 = store.eventsPage({ types: ['transition'] }, 0, 100, 8);
    expect(p1.events.map((e) => e.seq)).toEqual([1, 4, 7]);
    expect(p1.next).toBe(8);
    const p2 = store.eventsPage({ types: ['transition'] }, 8, 2, 8);
    expect(p2.events.map((e) => e.seq)).toEqual([10, 13]);
    expect(p2.next).toBe(13);
    const last = store.eventsPage({}, 25, 100, 8);
    expect(last.events.map((e) => e.seq)).toEqual([26, 27, 28, 29, 30]);
    expect(last.next).toBeNull();
  });

  it('finds the first seq of a time by bisecting the key', async () => {
    const { store } = await filled();
    expect(store.firstSeqFrom(T0 - MIN)).toBe(1);
    expect(store.firstSeqFrom(T0 + 10 * MIN)).toBe(11);
    expect(store.firstSeqFrom(T0 + 10 * MIN + 1)).toBe(12);
    expect(store.firstSeqFrom(T0 + 99 * MIN)).toBeNull();
  });

  it("one sensor's rollups, oldest first", async () => {
    rig = await openStore(join(tempDir(), 'r.db'));
    const { store } = rig;
    for (let m = 0; m < 5; m++) {
      store.addReading({ sensor: 'rg1', value: m, quality: 'good', atWall: T0 + m * MIN });
      store.addReading({ sensor: 'zz', value: 100, quality: 'good', atWall: T0 + m * MIN });
    }
    store.rollup(T0 + 10 * MIN);
    const t0m = T0 / MIN;
    const rows = store.sensorRollups('rg1', t0m - 1, t0m + 3);
    expect(rows.map((r) => [r.minute - t0m, r.last])).toEqual([[0, 0], [1, 1], [2, 2], [3, 3]]);
    expect(store.sensorRollups('nope', t0m - 1, t0m + 10)).toEqual([]);
  });
});
