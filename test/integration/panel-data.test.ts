/**
 * The panel's data side (issue 17) on a real box over real HTTP and MQTT: the site's shelters,
 * routes and named broadcasts in the state; a broadcast by template reaching the speaker with its
 * id and its progress per zone as the speaker reports; a rain gauge's hourly and rolling rain
 * from real rollups with the township's threshold override; drills from the log and the review
 * page of one, with a real alert acknowledged and escalated during it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { panelClient, type PanelClient } from '../helpers/panel-client.ts';
import { until } from '../helpers/until.ts';

let rig: BoxRig;
let base: string;
let wang: PanelClient;
let spk: MqttClient;
const heard: any[] = [];

beforeAll(async () => {
  rig = await startBoxRig('panel: { host: 127.0.0.1, port: 0 }', {
    siteYaml: `shelters: [{ id: hall, zh: 村委会, en: the village hall, zones: [b3] }, { id: school, zh: 北山小学, en: the hill school }],
      routes: [{ id: east, zh: 村东大道, en: the east road, shelter: hall }, { id: north, zh: 北坡路, en: the north path, shelter: school }]`,
  });
  base = rig.panelUrl!;
  wang = panelClient(base);
  await wang.signIn('wang');
  spk = await rig.connect('spk1');
  spk.on('message', (_t, p) => heard.push(JSON.parse(p.toString())));
  await spk.subscribeAsync('sb/v1/itest/cmd/spk1', { qos: 1 });
});
afterAll(async () => rig?.stop());

const state = async (): Promise<any> => (await wang.req('GET', '/api/state')).json();
/** Polls an async `get` until it gives something truthy (until() takes a synchronous one). */
async function eventually<T>(what: string, get: () => Promise<T | undefined | null | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const done = (activity: string) => spk.publishAsync('sb/v1/itest/actuator/spk1/report', JSON.stringify({ report: 'done', activity }), { qos: 1 });

describe('panel data: the site and its broadcasts', () => {
  it('the state names the shelters, the routes and every named broadcast, filled for the whole site', async () => {
    const s = await state();
    expect(s.site.shelters).toEqual([
      { id: 'hall', zh: '村委会', en: 'the village hall', zones: ['b3'] },
      { id: 'school', zh: '北山小学', en: 'the hill school', zones: null },
    ]);
    expect(s.site.routes).toEqual([
      { id: 'east', zh: '村东大道', en: 'the east road', shelter: 'hall' },
      { id: 'north', zh: '北坡路', en: 'the north path', shelter: 'school' },
    ]);
    expect(s.site.shelter).toEqual({ zh: '村委会', en: 'the village hall' });
    expect(s.site.templates.map((t: any) => t.id)).toEqual(['evacuation', 'rainstorm', 'flood', 'fire', 'all_clear', 'test']);
    const evac = s.site.templates[0];
    expect(evac).toMatchObject({ name_zh: '紧急撤离', name_en: 'evacuation', audio: null });
    // The whole site's shelter is the one listing no zones (b3's is the hall).
    expect(evac.text_zh).toBe('测试村紧急通知:全社区的居民请立即沿北坡路撤离到北山小学。');
    expect(s.broadcasts).toEqual([]);
  });

  it("a broadcast by template reaches the speaker filled for its zone with the template's id; its progress follows the speaker's report", async () => {
    const r = await wang.req('POST', '/api/commands', { type: 'broadcast', template: 'evacuation', zones: ['b3'], command_id: 'tpl-1' });
    expect(await r.json()).toEqual({ command_id: 'tpl-1', ok: true });
    const msg = await until('the broadcast at spk1', () => heard.find((m) => m.template === 'evacuation'));
    expect(msg).toMatchObject({ type: 'broadcast', zone: 'b3', by: 'wang', text_zh: '测试村紧急通知:3号楼的居民请立即沿村东大道撤离到村委会。' });
    const playing = await eventually('playing in the state', async () => (await state()).broadcasts.find((b: any) => b.activity === msg.activity));
    expect(playing).toMatchObject({ activity: msg.activity, template: 'evacuation', zones: ['b3'], repeat: 1, by: 'wang', drill: false, zones_state: { b3: 'playing' } });
    expect(playing.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    await done(msg.activity);
    await eventually('done in the state', async () => (await state()).broadcasts.find((b: any) => b.activity === msg.activity)?.zones_state.b3 === 'done');
    // The speaker is free again: the next broadcast plays at once.
    const next = await wang.req('POST', '/api/commands', { type: 'broadcast', text_zh: '第二条', command_id: 'tpl-2' });
    expect(next.status).toBe(200);
    await until('the second broadcast at spk1', () => heard.find((m) => m.text_zh === '第二条'));
    await done(heard.find((m) => m.text_zh === '第二条').activity);
  });
});

describe('panel data: rain history', () => {
  it('hourly rain and rolling sums from the rollups, with the thresholds the township has set', async () => {
    const MIN = 60_000;
    const now = Date.now();
    const first = Math.floor(now / MIN) - 120; // two hours ago
    // 0.5 mm a minute for the last two hours, a counter reset in the middle, a failed minute.
    let total = 800;
    for (let m = first; m < first + 120; m++) {
      if (m === first + 60) total = 0.5;
      else total += 0.5;
      if (m === first + 90) {
        rig.box.store.addReading({ sensor: 'rg1', value: null, quality: 'error', atWall: m * MIN + 30_000 });
        continue;
      }
      rig.box.store.addReading({ sensor: 'rg1', value: total, quality: 'good', atWall: m * MIN + 30_000 });
    }
    rig.box.store.flushReadings();
    rig.box.store.rollup(now);
    const town = await rig.connect('town');
    await town.publishAsync('sb/v1/itest/cmd/box', JSON.stringify({ type: 'set_threshold', sensor: 'rg1', threshold: 'rain_3h_orange', value: 30, for_s: 3600 }), { qos: 1 });
    await until('the override', () => rig.box.store.since(0).some((e) => e.type === 'threshold'));
    const h = (await (await wang.req('GET', '/api/sensors/rg1/history?hours=3')).json()) as any;
    expect(h.rolling_step_min).toBe(10);
    const sum = (xs: { mm: number }[]) => Math.round(xs.reduce((a, x) => a + x.mm, 0) * 1000) / 1000;
    // 119 steps after the baseline; the failed minute is spread with the next: still 0.5 each.
    expect(sum(h.hourly)).toBe(59.5);
    const nowSums = h.rolling.at(-1);
    expect(nowSums).toMatchObject({ sum_3h_mm: 59.5, sum_24h_mm: 59.5 });
    expect(nowSums.sum_1h_mm).toBeGreaterThan(28);
    expect(h.rolling.every((p: any) => /\+08:00$/.test(p.at) && p.sum_1h_mm <= p.sum_3h_mm && p.sum_3h_mm <= p.sum_24h_mm)).toBe(true);
    expect(h.thresholds).toContainEqual({ level: 'orange', window_h: 3, mm: 30, name: 'rain_3h', label: { zh: '暴雨', en: 'rainstorm' }, override: { by: expect.stringMatching(/town/), until: expect.stringMatching(/\+08:00$/), original_mm: 50 } });
    expect(h.thresholds).toContainEqual(expect.objectContaining({ level: 'red', window_h: 3, mm: 100, override: null }));
    const wl = (await (await wang.req('GET', '/api/sensors/wl1/history?hours=1')).json()) as any;
    expect(wl).toMatchObject({ kind: 'water_level', hourly: null, rolling: null, thresholds: null });
  });
});

describe('panel data: drills and their review', () => {
  it('a drill with a real alert acknowledged and escalated in it: listed, and its review page says who did what when', async () => {
    const viewer = panelClient(base);
    await viewer.signIn('viewer');
    const before = heard.length;
    expect((await wang.req('POST', '/api/commands', { type: 'drill', kind: 'water_level', level: 'red', command_id: 'd-1' })).status).toBe(200);
    const drillSpeech = await until('the drill speech', () => heard.slice(before).find((m) => m.drill === true && m.type === 'broadcast'));
    await done(drillSpeech.activity);
    const wl1 = await rig.connect('wl1');
    await wl1.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 2.7, unit: 'm' }), { qos: 1 });
    const alert = await eventually('the alert', async () => (await state()).alerts.find((a: any) => a.sensors.includes('wl1')));
    const id = alert.alert as string;
    expect((await wang.req('POST', '/api/commands', { type: 'ack', alert: id })).status).toBe(200);
    expect((await wang.req('POST', '/api/commands', { type: 'escalate', alert: id, text: '河水上涨,请求支援' })).status).toBe(200);
    const running = (await (await viewer.req('GET', '/api/drills')).json()) as any;
    expect(running.drills[0]).toMatchObject({ since: expect.stringMatching(/\+08:00$/), until: null, by: 'wang' });
    expect((await wang.req('POST', '/api/commands', { type: 'drill_end' })).status).toBe(200);
    const { drills } = (await (await viewer.req('GET', '/api/drills')).json()) as any;
    expect(drills).toHaveLength(1);
    expect(drills[0]).toMatchObject({ id: running.drills[0].id, by: 'wang', until: expect.stringMatching(/\+08:00$/), ended_by: 'wang', kind: 'water_level', level: 'red', review: `/review/${running.drills[0].id}` });

    const seq = rig.box.store.lastSeq();
    const page = await viewer.req('GET', drills[0].review);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-/);
    const html = await page.text();
    expect(html).toContain('演练复盘');
    expect(html).toContain('洪水红色预警演练');
    expect(html).toContain('河水上涨,请求支援');
    expect(html).toMatch(/spk1 报告播放完毕/);
    expect(html).toMatch(/警报确认/);
    expect(html).toContain(id);
    expect(html).not.toMatch(/<script/i);
    // The alarm row: raised, acknowledged by wang, broadcast, escalated by wang.
    const row = html.split('<tr>').find((r) => r.includes(id) && r.includes('class="t"'))!;
    expect(row.match(/wang/g)?.length).toBe(2);
    expect(rig.box.store.lastSeq()).toBe(seq); // reading it logged nothing

    expect((await fetch(`${base}${drills[0].review}`)).status).toBe(401);
    expect(await (await fetch(`${base}${drills[0].review}`)).text()).toContain('请先登录');
    expect((await viewer.req('GET', '/review/999999')).status).toBe(404);
    expect((await viewer.req('GET', '/review/abc')).status).toBe(400);
  });
});
