/**
 * Keyed broadcasts (the CAP inbox's seam into the planner): a broadcast with a `key` replaces
 * its own earlier one, `broadcast_cancel` stops it wherever it plays or waits, and a module may
 * set the priority and the drill mark itself.
 */
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../gateway/planner/types.ts';
import { PlannerRig } from '../helpers/planner-rig.ts';
import { T0, site } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村, name_en: Testville }
zones: [{ id: river, name: 沿河 }]
sensors: [{ id: rg1, kind: rain }]
actuators:
  - { id: siren1, kind: siren, zones: [site] }
  - { id: spk1, kind: speaker, zones: [site] }
`);

const audible = (effects: Effect[]): string[] =>
  effects.filter((e) => e.type !== 'indicator').map((e) => `${e.type}:${e.type === 'broadcast' ? e.textZh : 'reason' in e ? e.reason : 'pattern' in e ? e.pattern : ''}`);

const township = { type: 'broadcast' as const, source: 'township' as const, by: 'cap:county' };

describe('planner: keyed broadcasts', () => {
  it('a broadcast with the same key takes the place of the one still playing, whatever its priority; another key waits its turn', () => {
    const rig = new PlannerRig(cfg);
    expect(audible(rig.c({ ...township, textZh: '第一版', key: 'k1', priority: 'emergency' }))).toEqual(['broadcast:第一版']);
    expect(audible(rig.c({ ...township, textZh: '别的', key: 'k2' }, T0 + 1000))).toEqual([]); // lower priority: waits
    // The update is routine now, yet replaces its own first version at once, where it played.
    expect(audible(rig.c({ ...township, textZh: '第二版', key: 'k1', priority: 'routine' }, T0 + 2000))).toEqual(['broadcast_stop:replaced', 'broadcast:第二版']);
    const spk = rig.state.channels.get('spk1')!;
    expect(spk.queue.map((i) => i.textZh)).toEqual(['别的']);
  });

  it('an update that still sounds the siren swaps patterns with no off write between (no relay blip); one without a siren stops it', () => {
    const rig = new PlannerRig(cfg);
    const first = rig.c({ ...township, textZh: '红色', key: 'k1', priority: 'emergency', pattern: 'air_raid_alarm' });
    const s1 = first.find((e) => e.type === 'siren')!;
    const again = rig.c({ ...township, textZh: '仍为红色', key: 'k1', priority: 'emergency', pattern: 'air_raid_alarm' }, T0 + 1000);
    expect(audible(again)).toEqual(['siren:air_raid_alarm', 'broadcast_stop:replaced', 'broadcast:仍为红色']);
    expect(again.find((e) => e.type === 'siren')).toMatchObject({ replaces: { activity: s1.activity, reason: 'replaced' } });
    const lower = rig.c({ ...township, textZh: '降为黄色', key: 'k1' }, T0 + 2000);
    expect(audible(lower)).toEqual(['broadcast_stop:replaced', 'broadcast:降为黄色', 'siren_off:replaced']);
    expect(rig.state.channels.get('siren1')!.current).toBeNull();
  });

  it('broadcast_cancel stops the keyed broadcast and its siren, and drops it from the queues', () => {
    const rig = new PlannerRig(cfg);
    rig.c({ ...township, textZh: '紧急', key: 'k1', priority: 'emergency', pattern: 'air_raid_alarm' });
    rig.c({ ...township, textZh: '排队', key: 'k2' }, T0 + 1000);
    const e = rig.c({ type: 'broadcast_cancel', by: 'cap:county', key: 'k1' }, T0 + 2000);
    expect(audible(e)).toEqual(['siren_off:cancelled', 'broadcast_stop:cancelled', 'broadcast:排队']);
    const k2 = rig.c({ type: 'broadcast_cancel', by: 'cap:county', key: 'k2' }, T0 + 3000);
    expect(audible(k2)).toEqual(['broadcast_stop:cancelled']);
    expect(rig.state.channels.get('spk1')!.current).toBeNull();
  });

  it('broadcast_cancel of a key that plays nowhere changes nothing and leaves a note', () => {
    const rig = new PlannerRig(cfg);
    rig.c({ ...township, textZh: '无关', key: 'other' });
    expect(audible(rig.c({ type: 'broadcast_cancel', by: 'x', key: 'gone' }, T0 + 1000))).toEqual([]);
    expect(rig.notes).toContainEqual({ at: T0 + 1000, note: 'cancelled', detail: { key: 'gone', stopped: 0 } });
    expect(rig.state.channels.get('spk1')!.current?.textZh).toBe('无关');
  });

  it('a module-set priority pre-empts by it: an emergency CAP broadcast pre-empts a township one, a routine one waits', () => {
    const rig = new PlannerRig(cfg);
    rig.c({ ...township, textZh: '普通', key: 'a' });
    expect(audible(rig.c({ ...township, textZh: '例行', key: 'b', priority: 'routine' }, T0 + 1))).toEqual([]);
    const e = rig.c({ ...township, textZh: '紧急', key: 'c', priority: 'emergency' }, T0 + 2);
    expect(audible(e)).toEqual(['broadcast_stop:preempted', 'broadcast:紧急']);
    expect(e.find((x) => x.type === 'broadcast')).toMatchObject({ priority: 'emergency', source: 'township', drill: false });
  });

  it('a drill broadcast is marked drill and is dropped, not resumed, when pre-empted', () => {
    const rig = new PlannerRig(cfg);
    const d = rig.c({ ...township, textZh: '演练', key: 'x', priority: 'drill', drill: true });
    expect(d.find((x) => x.type === 'broadcast')).toMatchObject({ priority: 'drill', drill: true });
    rig.c({ ...township, textZh: '真的', key: 'y' }, T0 + 1);
    expect(rig.state.channels.get('spk1')!.queue).toEqual([]);
  });

  it('without a key or priority a broadcast behaves as before (source township → township priority)', () => {
    const rig = new PlannerRig(cfg);
    const e = rig.c({ ...township, textZh: '通知' });
    expect(e.find((x) => x.type === 'broadcast')).toMatchObject({ priority: 'township', drill: false });
    expect(rig.state.channels.get('spk1')!.current!.key).toBeUndefined();
  });
});
