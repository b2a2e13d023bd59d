/**
 * Shelters, routes and named broadcast templates in the site config (issue 17): the version-1
 * single `shelter`/`route` still valid, the lists with their cross-field rules, each problem as
 * `path: message`, and which shelter and route each zone gets.
 */
import { describe, expect, it } from 'vitest';
import { BUILTIN_TEMPLATES } from '../../gateway/config/defaults.ts';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';
import { placeFor, routeFor, shelterFor } from '../../gateway/config/places.ts';
import { site } from '../helpers/site.ts';

const problems = (yaml: string): string[] => parseConfig(yaml).problems.map(formatProblem);

const ZONES = `zones: [{ id: river, name: 沿河片区, name_en: Riverside }, { id: b3, name: 3号楼 }, { id: east, name: 东片 }]
sensors: [{ id: rg1, kind: rain }]`;

const TWO = `
site:
  id: t
  name: 测试村
  shelters:
    - { id: school, zh: 北山小学, en: the hill school, zones: [river] }
    - { id: hall, zh: 村委会, en: the village hall }
  routes:
    - { id: north, zh: 北坡路, en: the north path, shelter: school }
    - { id: main, zh: 村东大道, en: the east road, shelter: hall }
    - { id: back, zh: 后山小路, en: the back path, shelter: school }
${ZONES}
`;

describe('config: shelters and routes', () => {
  it('a version-1 file without them: the defaults, as one shelter and one route', () => {
    const c = site(`site: { id: t, name: t }\nsensors: [{ id: rg1, kind: rain }]`);
    expect(c.site.shelter).toEqual({ zh: '就近避难点', en: 'the nearest shelter' });
    expect(c.site.route).toEqual({ zh: '安全路线', en: 'the safe route' });
    expect(c.site.shelters).toEqual([{ id: 'shelter', zh: '就近避难点', en: 'the nearest shelter', zones: null }]);
    expect(c.site.routes).toEqual([{ id: 'route', zh: '安全路线', en: 'the safe route', shelter: 'shelter' }]);
  });

  it('a version-1 single shelter and route still work: they are the one shelter and its route', () => {
    const c = site(`site: { id: t, name: t, shelter: { zh: 村委会 }, route: { zh: 北坡路, en: the north path } }\nsensors: [{ id: rg1, kind: rain }]`);
    expect(c.site.shelter).toEqual({ zh: '村委会', en: 'the nearest shelter' }); // en defaulted, as before
    expect(c.site.shelters).toEqual([{ id: 'shelter', zh: '村委会', en: 'the nearest shelter', zones: null }]);
    expect(c.site.routes).toEqual([{ id: 'route', zh: '北坡路', en: 'the north path', shelter: 'shelter' }]);
    expect(placeFor(c, 'site')).toEqual({ shelter: { zh: '村委会', en: 'the nearest shelter' }, route: { zh: '北坡路', en: 'the north path' } });
  });

  it('the lists: site.shelter is the first shelter, site.route the first route to it', () => {
    const c = site(TWO);
    expect(c.site.shelters.map((s) => [s.id, s.zones])).toEqual([
      ['school', ['river']],
      ['hall', null],
    ]);
    expect(c.site.routes.map((r) => `${r.id}→${r.shelter}`)).toEqual(['north→school', 'main→hall', 'back→school']);
    expect(c.site.shelter).toEqual({ zh: '北山小学', en: 'the hill school' });
    expect(c.site.route).toEqual({ zh: '北坡路', en: 'the north path' });
  });

  it("a zone's shelter: the one listing it, else the one listing no zones, else the first; its route: the first to that shelter", () => {
    const c = site(TWO);
    expect(shelterFor(c, 'river').id).toBe('school');
    expect(shelterFor(c, 'b3').id).toBe('hall'); // hall lists no zones: it takes everyone else
    expect(shelterFor(c, 'site').id).toBe('hall');
    expect(placeFor(c, 'river')).toEqual({ shelter: { zh: '北山小学', en: 'the hill school' }, route: { zh: '北坡路', en: 'the north path' } });
    expect(placeFor(c, 'b3').route).toEqual({ zh: '村东大道', en: 'the east road' });
    // Every shelter lists zones: a zone none lists goes to the first.
    const listed = site(`
site:
  id: t
  name: t
  shelters: [{ id: a, zh: 甲, en: A, zones: [river] }, { id: b, zh: 乙, en: B, zones: [b3] }]
${ZONES}`);
    expect(shelterFor(listed, 'east').id).toBe('a');
    expect(shelterFor(listed, 'b3').id).toBe('b');
  });

  it('a shelter without a route is reached by the safe route, or by site.route when the site lists no routes', () => {
    const c = site(`
site:
  id: t
  name: t
  shelters: [{ id: a, zh: 甲, en: A }, { id: b, zh: 乙, en: B }]
  routes: [{ id: ra, zh: 甲路, en: road A, shelter: a }]
${ZONES}`);
    expect(routeFor(c, 'b')).toEqual({ zh: '安全路线', en: 'the safe route' });
    expect(routeFor(c, 'a')).toEqual({ zh: '甲路', en: 'road A' });
    const noRoutes = site(`
site:
  id: t
  name: t
  route: { zh: 大路, en: the main road }
  shelters: [{ id: a, zh: 甲, en: A }, { id: b, zh: 乙, en: B }]
${ZONES}`);
    expect(noRoutes.site.routes).toEqual([]);
    expect(routeFor(noRoutes, 'b')).toEqual({ zh: '大路', en: 'the main road' });
    expect(noRoutes.site.route).toEqual({ zh: '大路', en: 'the main road' });
  });

  it('refuses a route to no shelter, unknown zones, duplicate ids, both forms at once, routes without shelters — each with its path', () => {
    expect(problems(`
site:
  id: t
  name: t
  shelter: { zh: 村委会 }
  route: { zh: 路 }
  shelters:
    - { id: a, zh: 甲, en: A, zones: [river, moon] }
    - { id: a, zh: 乙, en: B }
  routes:
    - { id: r1, zh: 路, en: road, shelter: nowhere }
    - { id: r1, zh: 路, en: road, shelter: a }
${ZONES}`)).toEqual([
      "site.shelter: give shelter or shelters, not both (the first of shelters is the site shelter) (line 5)",
      'site.route: give route or routes, not both (each route names its shelter) (line 6)',
      "site.shelters[1].id: duplicate id 'a' (first at site.shelters[0]) (line 9)",
      "site.shelters[0].zones[1]: unknown zone 'moon' (zones: site, river, b3, east) (line 8)",
      "site.routes[1].id: duplicate id 'r1' (first at site.routes[0]) (line 12)",
      "site.routes[0].shelter: unknown shelter 'nowhere' (shelters: a, a) (line 11)",
    ]);
    expect(problems(`site: { id: t, name: t, routes: [{ id: r, zh: 路, en: road, shelter: shelter }] }\nsensors: [{ id: rg1, kind: rain }]`)).toEqual([
      'site.routes: routes need site.shelters (each route names the shelter it leads to) (line 1)',
    ]);
  });

  it('the schema: both languages, an id, a route names its shelter, no unknown keys, no empty lists', () => {
    expect(problems(`
site:
  id: t
  name: t
  shelters: [{ id: A, zh: 甲, colour: red }]
  routes: [{ id: r, zh: 路, en: road }]
sensors: [{ id: rg1, kind: rain }]`)).toEqual([
      'site.shelters[0].en: is required (line 5)',
      'site.shelters[0].colour: unknown key (line 5)',
      'site.shelters[0].id: must match ^[a-z0-9][a-z0-9_-]{0,31}$ (line 5)',
      'site.routes[0].shelter: is required (line 6)',
    ]);
    expect(problems(`site: { id: t, name: t, shelters: [] }\nsensors: [{ id: rg1, kind: rain }]`)).toEqual(['site.shelters: must NOT have fewer than 1 items (line 1)']);
  });
});

describe('config: named broadcast templates', () => {
  it('every site has the built-ins: evacuation, rainstorm, flood, fire, all_clear, test', () => {
    const c = site(`site: { id: t, name: t }\nsensors: [{ id: rg1, kind: rain }]`);
    expect(Object.keys(c.broadcasts.templates)).toEqual(['evacuation', 'rainstorm', 'flood', 'fire', 'all_clear', 'test']);
    for (const t of Object.values(c.broadcasts.templates)) {
      expect(t.nameZh && t.nameEn && t.textZh && t.textEn).toBeTruthy();
      expect(t.audio).toBeNull();
    }
    expect(c.broadcasts.templates.evacuation!.textZh).toContain('{shelter}');
    expect(c.broadcasts.templates.evacuation!.textZh).toContain('{route}');
    expect(c.broadcasts.templates.evacuation!.textEn).toContain('{shelter}');
  });

  it("a site changes one field of a built-in (the others stay) and adds its own with all four texts", () => {
    const c = site(`
site: { id: t, name: t }
sensors: [{ id: rg1, kind: rain }]
broadcasts:
  templates:
    evacuation: { audio: evacuation-zh.wav }
    fire: { text_zh: '{zone}着火了,快跑到{shelter}。' }
    landslide: { name_zh: 山体滑坡, name_en: landslide, text_zh: '{zone}有滑坡危险,请沿{route}撤离。', text_en: 'Landslide danger in {zone}: leave by {route}.', audio: landslide.mp3 }
`);
    const t = c.broadcasts.templates;
    expect(t.evacuation).toEqual({ ...BUILTIN_TEMPLATES.evacuation, audio: 'evacuation-zh.wav' });
    expect(t.fire).toEqual({ ...BUILTIN_TEMPLATES.fire, textZh: '{zone}着火了,快跑到{shelter}。' });
    expect(t.landslide).toEqual({ nameZh: '山体滑坡', nameEn: 'landslide', textZh: '{zone}有滑坡危险,请沿{route}撤离。', textEn: 'Landslide danger in {zone}: leave by {route}.', audio: 'landslide.mp3' });
    // The built-ins themselves are not changed for the next site.
    expect(BUILTIN_TEMPLATES.evacuation!.audio).toBeNull();
  });

  it('refuses a template of its own without both names and texts, a path as audio, a bad id and unknown keys', () => {
    expect(problems(`
site: { id: t, name: t }
sensors: [{ id: rg1, kind: rain }]
broadcasts:
  templates:
    mine: { name_zh: 我的, text_zh: 话 }
    evacuation: { audio: ../../etc/passwd }
    Bad: { name_zh: x }
    test: { volume: 11 }
`)).toEqual([
      'broadcasts.templates.Bad: not a valid name: must match ^[a-z0-9][a-z0-9_-]{0,31}$ (line 8)',
      'broadcasts.templates.evacuation.audio: must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ (line 7)',
      'broadcasts.templates.test.volume: unknown key (line 9)',
      "broadcasts.templates.mine.name_en: is required ('mine' is not a built-in template: evacuation, rainstorm, flood, fire, all_clear, test) (line 6)",
      "broadcasts.templates.mine.text_en: is required ('mine' is not a built-in template: evacuation, rainstorm, flood, fire, all_clear, test) (line 6)",
    ]);
  });
});
