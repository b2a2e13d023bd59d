/**
 * Broadcast by template (issue 17), in the pure planner: a named broadcast filled for each zone
 * with that zone's shelter and route, the officer's words in `{text}`, the template id on the
 * effect (a speaker with the recording plays it), drills marked, an unknown template refused.
 */
import { describe, expect, it } from 'vitest';
import { createCore, step } from '../../gateway/core.ts';
import type { Effect } from '../../gateway/planner/types.ts';
import { announce, fromTemplate } from '../../gateway/planner/template.ts';
import { PlannerRig } from '../helpers/planner-rig.ts';
import { T0, rainTransition, site } from '../helpers/site.ts';

const cfg = site(`
site:
  id: t
  name: 测试村
  name_en: Testville
  shelters:
    - { id: school, zh: 北山小学, en: the hill school, zones: [river] }
    - { id: hall, zh: 村委会, en: the village hall }
  routes:
    - { id: north, zh: 北坡路, en: the north path, shelter: school }
    - { id: east, zh: 村东大道, en: the east road, shelter: hall }
zones: [{ id: river, name: 沿河片区, name_en: Riverside }, { id: b3, name: 3号楼, name_en: Building 3 }]
sensors:
  - { id: rg1, kind: rain }
  - { id: wl1, kind: water_level, zone: river, sound_zones: [river], stages: { warning: 2.5 } }
actuators:
  - { id: spk-river, kind: speaker, zones: [river] }
  - { id: spk-b3, kind: speaker, zones: [b3] }
broadcasts:
  templates:
    evacuation: { audio: evac.wav }
    notice: { name_zh: 通知, name_en: notice, text_zh: '{site}通知:{text}', text_en: '{site} notice: {text}' }
`);

type Broadcast = Extract<Effect, { type: 'broadcast' }>;
const broadcasts = (effects: Effect[]): Broadcast[] => effects.filter((e): e is Broadcast => e.type === 'broadcast');

describe('planner: broadcast by template', () => {
  it("fills the template for each speaker's zone: that zone's shelter and route, and carries the template id", () => {
    const rig = new PlannerRig(cfg);
    const out = broadcasts(rig.c({ type: 'broadcast', source: 'officer', by: 'wang', template: 'evacuation', zones: ['river', 'b3'] }));
    expect(out.map((e) => [e.actuator, e.zone, e.template, e.by, e.drill])).toEqual([
      ['spk-river', 'river', 'evacuation', 'wang', false],
      ['spk-b3', 'b3', 'evacuation', 'wang', false],
    ]);
    expect(out[0]!.textZh).toBe('测试村紧急通知:沿河片区的居民请立即沿北坡路撤离到北山小学。');
    expect(out[0]!.textEn).toBe('Testville emergency notice: people in Riverside, leave now for the hill school by the north path.');
    expect(out[1]!.textZh).toBe('测试村紧急通知:3号楼的居民请立即沿村东大道撤离到村委会。');
    expect(out[1]!.textEn).toContain('the village hall by the east road');
    expect(rig.notes).toEqual([]);
  });

  it("the officer's words fill {text}; a template without {text} says them after its sentence (nothing typed is lost)", () => {
    const rig = new PlannerRig(cfg);
    const [n] = broadcasts(rig.c({ type: 'broadcast', source: 'officer', by: 'wang', template: 'notice', textZh: '今晚停电', textEn: 'power cut tonight', zones: ['b3'] }));
    expect([n!.textZh, n!.textEn]).toEqual(['测试村通知:今晚停电', 'Testville notice: power cut tonight']);
    const [e] = broadcasts(rig.c({ type: 'broadcast', source: 'officer', by: 'wang', template: 'flood', textZh: '桥已封闭', zones: ['river'] }, T0 + 1000));
    expect(e!.textZh.endsWith('不要涉水过河。桥已封闭')).toBe(true);
    expect(e!.textEn.endsWith('Do not wade through water. 桥已封闭')).toBe(true); // no English given: the Chinese, as for any broadcast
  });

  it('a drill broadcast by template is marked and prefixed; a plain broadcast has no template on its effect', () => {
    const rig = new PlannerRig(cfg);
    const [d] = broadcasts(rig.c({ type: 'broadcast', source: 'officer', by: 'wang', template: 'fire', zones: ['b3'], drill: true }));
    expect(d).toMatchObject({ drill: true, template: 'fire', priority: 'routine' });
    expect(d!.textZh.startsWith('【演练】测试村火警:3号楼发生火情')).toBe(true);
    expect(d!.textEn.startsWith('[DRILL] Testville fire alarm')).toBe(true);
    const [p] = broadcasts(rig.c({ type: 'broadcast', source: 'officer', by: 'wang', textZh: '开会', zones: ['river'] }));
    expect(p).not.toHaveProperty('template');
    expect(p!.textZh).toBe('开会');
  });

  it('an unknown template plays nothing and the core says why (the validator refuses it before; this is the second line)', () => {
    const rig = new PlannerRig(cfg);
    expect(rig.c({ type: 'broadcast', source: 'officer', by: 'wang', template: 'nope', zones: ['b3'] })).toEqual([]);
    expect(rig.notes).toEqual([{ at: T0, note: 'unknown_template', detail: { template: 'nope' } }]);
    const core = createCore(cfg, T0);
    const out = step(core, { type: 'command', command: { type: 'broadcast', source: 'officer', by: 'wang', template: 'nope' } }, T0);
    expect(out.effects).toEqual([]);
    expect(out.refused).toBe("template: no template 'nope' in this site: nothing was broadcast");
    // Inherited object keys are not templates.
    expect(step(core, { type: 'command', command: { type: 'broadcast', source: 'officer', by: 'wang', template: 'constructor' } }, T0).refused).toMatch(/no template 'constructor'/);
    expect(step(core, { type: 'command', command: { type: 'broadcast', source: 'officer', by: 'wang' } }, T0).refused).toBe('a broadcast needs text_zh or a template: nothing was broadcast');
  });

  it('the scheduled test speaks the test template, with its id on the effect', () => {
    const rig = new PlannerRig(cfg);
    const [t] = broadcasts(rig.c({ type: 'test', by: 'schedule', zones: ['b3'] }));
    expect(t).toMatchObject({ template: 'test', textZh: '测试村预警设备例行测试,这不是警报。', textEn: 'Testville alert equipment routine test. This is not an alarm.', priority: 'test' });
  });

  it("each speaker's item knows the requested zones it plays for (the panel's progress per zone)", () => {
    const wide = site(`
site: { id: t, name: t }
zones: [{ id: river }, { id: b3 }]
sensors: [{ id: rg1, kind: rain }]
actuators: [{ id: spk1, kind: speaker, zones: [site] }, { id: spk-b3, kind: speaker, zones: [b3] }]
`);
    const rig = new PlannerRig(wide);
    rig.c({ type: 'broadcast', source: 'officer', by: 'wang', template: 'evacuation', zones: ['river', 'b3'] });
    expect(rig.state.channels.get('spk1')!.current!.zones).toEqual(['river', 'b3']);
    expect(rig.state.channels.get('spk-b3')!.current!.zones).toEqual(['b3']);
  });

  it("an alert's broadcast says its zone's shelter and route", () => {
    const rig = new PlannerRig(cfg);
    const river = rainTransition('raised', 'orange', { alert: 'wl1/stage/1', kind: 'water_level', sensors: ['wl1'], zone: 'river', textZh: '水位超警戒', textEn: 'river above warning' });
    const [b] = broadcasts(rig.t(river));
    expect(b!.textZh).toBe('测试村:水位超警戒。请沿北坡路前往北山小学。');
    expect(b!.textEn).toBe('Testville: river above warning. Go to the hill school by the north path.');
    expect(announce(cfg, 'b3', 'x', 'y').textZh).toBe('测试村:x。请沿村东大道前往村委会。');
  });

  it('fromTemplate: unknown placeholders stay as written; null for an unknown id', () => {
    const c = site(`
site: { id: t, name: t }
sensors: [{ id: rg1, kind: rain }]
broadcasts: { templates: { odd: { name_zh: 怪, name_en: odd, text_zh: '{site}{typo}', text_en: '{site} {typo}' } } }
`);
    expect(fromTemplate(c, 'odd', 'site')).toEqual({ textZh: 't{typo}', textEn: 't {typo}' });
    expect(fromTemplate(c, 'missing', 'site')).toBeNull();
  });
});
