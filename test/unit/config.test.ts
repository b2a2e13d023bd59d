import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';

const MINIMAL = `
site: { id: demo, name: 示范社区 }
sensors:
  - { id: rg1, kind: rain }
  - { id: wl1, kind: water_level, stages: { warning: 2.5, guaranteed: 3.2 } }
  - { id: sm1, kind: smoke, zone: building-3 }
`;

const problems = (yaml: string): string[] => parseConfig(yaml).problems.map(formatProblem);

describe('site config', () => {
  it('the minimal config from the issue is valid and gets every default', () => {
    const { config, problems: p } = parseConfig(MINIMAL);
    expect(p).toEqual([]);
    expect(config!.version).toBe(1);
    expect(config!.site.utcOffset).toBe('+08:00');
    expect(config!.zones.map((z) => z.id)).toEqual(['site', 'building-3']);
    const [rg, wl, sm] = config!.sensors;
    expect(rg!.kind === 'rain' && rg!.rules.map((r) => `${r.windowH}h≥${r.mm}:${r.level}`)).toEqual(['12h≥50:blue', '6h≥50:yellow', '3h≥50:orange', '3h≥100:red']);
    expect(rg!.soundZones).toEqual(['site']);
    expect(wl!.kind === 'water_level' && wl!.stages.map((s) => [s.name, s.value, s.level])).toEqual([
      ['warning', 2.5, 'yellow'],
      ['guaranteed', 3.2, 'orange'],
    ]);
    expect(wl!.kind === 'water_level' && wl!.rise.map((r) => [r.value, r.level])).toEqual([
      [0.3, 'yellow'],
      [0.5, 'orange'],
    ]);
    expect(sm!.kind === 'smoke' && [sm!.zone, sm!.soundZones, sm!.mode, sm!.confirmS]).toEqual(['building-3', ['building-3'], 'state', 60]);
    expect(config!.actions.sirenMaxOnS).toBe(180);
    expect(config!.actions.patterns.air_raid_pre_alert!.steps).toEqual([36, 24, 36, 24, 36]);
    expect(config!.actions.patterns.all_clear!.steps).toEqual([180]);
  });

  it('reports every error at once as path: message with the line', () => {
    const p = problems(`site: { id: Demo, name: 示范社区, colour: red }
sensors:
  - { id: rg1, kind: rain, rules: [{window_h: 2, mm: -1, level: purple}] }
  - { id: wl1, kind: water_level, stages: { warning: 3.5, guaranteed: 3.2 } }
  - { id: sm1, kind: smok }
  - { id: rg1, kind: rain }
actions: { level_patterns: { red: nope } }
`);
    expect(p).toEqual([
      'site.colour: unknown key (line 1)',
      'site.id: must match ^[a-z0-9][a-z0-9_-]{0,31}$ (line 1)',
      'sensors[0].rules[0].window_h: must be one of 1, 3, 6, 12, 24 (line 3)',
      'sensors[0].rules[0].mm: must be > 0 (line 3)',
      'sensors[0].rules[0].level: must be one of info, blue, yellow, orange, red (line 3)',
      'sensors[2].kind: must be one of rain, water_level, smoke (line 5)',
      "sensors[3].id: duplicate id 'rg1' (first at sensors[0]) (line 6)",
      'sensors[1].stages.guaranteed: must be above warning (3.5 m) (line 4)',
      "actions.level_patterns.red: unknown pattern 'nope' (known: air_raid_pre_alert, air_raid_alarm, all_clear, fire_alarm, test) (line 7)",
    ]);
  });

  it('a sensor zone must exist when zones are listed, and so must sound zones', () => {
    expect(problems(`
site: { id: t, name: t }
zones: [{ id: a }]
sensors:
  - { id: s1, kind: smoke, zone: b, sound_zones: [a, c] }
`)).toEqual(["sensors[0].zone: unknown zone 'b' (zones: site, a) (line 5)", "sensors[0].sound_zones[1]: unknown zone 'c' (line 5)"]);
  });

  it('a water-level sensor needs a stage; min must be below max', () => {
    expect(problems(`
site: { id: t, name: t }
sensors:
  - { id: w, kind: water_level, min: 5, max: 1 }
`)).toEqual(['sensors[0].min: must be below max (1) (line 4)', 'sensors[0].stages: a water-level sensor needs at least one stage (attention, warning, guaranteed or historical_max) (line 4)']);
  });

  it('required keys, wrong types and a newer version are named', () => {
    expect(problems('sensors: []')).toEqual(['site: is required (line 1)', 'sensors: must NOT have fewer than 1 items (line 1)']);
    expect(problems(`site: { id: t, name: t, utc_offset: '8' }\nsensors: [{ id: r, kind: rain, interval_s: fast }]`)).toEqual([
      'site.utc_offset: must look like +08:00 (line 1)',
      'sensors[0].interval_s: must be number (line 2)',
    ]);
    expect(problems(`version: 9\nsite: { id: t, name: t }\nsensors: [{ id: r, kind: rain }]`)).toEqual(['version: version 9 is newer than this gateway understands (1); upgrade the gateway']);
  });

  it('a rain rule may carry its own label in both languages; without one, only a CMA signal is a rainstorm', () => {
    const { config, problems: p } = parseConfig(`
site: { id: t, name: t }
sensors:
  - id: rg1
    kind: rain
    rules:
      - { window_h: 3, mm: 50, level: orange }
      - { name: flash_flood, window_h: 1, mm: 30, level: orange }
      - { window_h: 6, mm: 60, level: red }
      - { window_h: 1, mm: 60, level: red, label: { zh: 山洪, en: flash flood } }
`);
    expect(p).toEqual([]);
    const rg = config!.sensors[0]!;
    expect(rg.kind === 'rain' && rg.rules.map((r) => r.label.zh)).toEqual(['暴雨', '短时强降水', '强降雨', '山洪']);
    expect(rg.kind === 'rain' && rg.rules.map((r) => r.label.en)).toEqual(['rainstorm', 'short-duration heavy rain', 'heavy rain', 'flash flood']);
    expect(problems(`
site: { id: t, name: t }
sensors: [{ id: rg1, kind: rain, rules: [{ window_h: 1, mm: 30, level: orange, label: { zh: 山洪 } }] }]
`)).toEqual(['sensors[0].rules[0].label.en: is required (line 3)']);
  });

  it('a polled sensor expects a reading every poll_s and is stale after three missed polls', () => {
    const { config } = parseConfig(`
site: { id: t, name: t }
buses: [{ id: b1, type: tcp, host: 127.0.0.1 }]
defaults: { rain: { interval_s: 60 }, smoke: { stale_intervals: 8 } }
sensors:
  - { id: rg1, kind: rain, modbus: { bus: b1, unit: 1, profile: xunchip-xm9505, poll_s: 1 } }
  - { id: sm2, kind: smoke, modbus: { bus: b1, unit: 4, profile: shaobing-node, register: smoke_status, poll_s: 2 } }
  - { id: wl1, kind: water_level, stages: { warning: 2 }, modbus: { bus: b1, unit: 2, profile: qdy30a } }
  - { id: wl2, kind: water_level, stages: { warning: 2 }, interval_s: 5, stale_intervals: 4, modbus: { bus: b1, unit: 3, profile: qdy30a, poll_s: 1 } }
  - { id: sm1, kind: smoke }
`);
    const h = config!.sensors.map((s) => [s.health.intervalS, s.health.staleIntervals, s.health.errorStreak]);
    // The sensor's own poll_s beats a site-wide interval_s, a site-wide stale_intervals beats the
    // polled default of 3, the sensor's own health keys beat all; MQTT sensors keep theirs.
    expect(h).toEqual([
      [1, 3, 3],
      [2, 8, 3],
      [10, 3, 3],
      [5, 4, 3],
      [30, 8, 3],
    ]);
  });

  it('YAML syntax errors and non-mappings are problems, not exceptions', () => {
    expect(problems('site: { id: t\nsensors: [')[0]).toMatch(/^\(top\): YAML: .*\(line \d+\)$/);
    expect(problems('- just\n- a list')).toEqual(['(top): the config must be a mapping with site and sensors']);
    expect(problems('site: {id: t, name: t}\nsite: {id: u, name: u}\nsensors: [{id: r, kind: rain}]')[0]).toMatch(/YAML: .*unique/i);
  });
});
