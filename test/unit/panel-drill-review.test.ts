/**
 * Drills from the event log and one drill's review (复盘): which command events make a drill,
 * where it ends, the drill's clock and each alarm's response clock from the log, every event
 * in words with who, and the printable page (escaped, no script, A4).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addDrills, drillReview, endsWithDrill, MAX_ENTRIES, type DrillRun } from '../../gateway/panel/drill-review.ts';
import { esc, reviewHtml, since, STYLE_HASH } from '../../gateway/panel/review-html.ts';
import type { StoredEvent } from '../../gateway/store/types.ts';

const T0 = Date.parse('2026-07-20T09:00:00+08:00');
const S = 1000;
let seq = 0;
function ev(type: StoredEvent['type'], payload: Record<string, unknown>, atS: number): StoredEvent {
  return { seq: ++seq, type, atWall: T0 + atS * S, atMono: atS * S, boot: 'b', clockTrusted: true, payload };
}
const cmd = (command: Record<string, unknown>, by: string, atS: number, ok = true, role = 'officer', via = 'panel'): StoredEvent =>
  ev('command', { command: { ...command, by }, by, role, via, result: ok ? { ok: true } : { ok: false, error: 'no' } }, atS);
const effect = (e: Record<string, unknown>, atS: number): StoredEvent => ev('effect', { at: T0 + atS * S, zone: 'site', ...e }, atS);

describe('drills from the log', () => {
  it('a drill carried out starts one; drill_end or the next drill ends it; refused ones and stray ends are not drills', () => {
    seq = 0;
    const events = [
      cmd({ type: 'drill', kind: 'smoke', level: 'red', zones: ['b3'] }, 'wang', 0),
      cmd({ type: 'silence' }, 'wang', 5),
      cmd({ type: 'drill_end' }, 'li', 60),
      cmd({ type: 'drill' }, 'wang', 100, false), // refused
      cmd({ type: 'drill_end' }, 'wang', 110), // nothing running
      cmd({ type: 'drill' }, 'wang', 200),
      cmd({ type: 'drill', level: 'orange' }, 'zhao', 300), // replaces the one running
    ];
    const runs: DrillRun[] = [];
    addDrills(runs, events.slice(0, 4));
    addDrills(runs, events.slice(4));
    expect(runs).toEqual([
      { id: 1, since: T0, until: T0 + 60 * S, by: 'wang', endSeq: 3, endedBy: 'li', kind: 'smoke', level: 'red', zones: ['b3'] },
      { id: 6, since: T0 + 200 * S, until: T0 + 300 * S, by: 'wang', endSeq: 7, endedBy: 'zhao', kind: 'water_level', level: 'red', zones: null },
      { id: 7, since: T0 + 300 * S, until: null, by: 'zhao', endSeq: null, endedBy: null, kind: 'water_level', level: 'orange', zones: null },
    ]);
  });

  it("the end command's own stops and the drill light belong to the drill; the next step's effects do not", () => {
    expect(endsWithDrill(effect({ type: 'siren_off', reason: 'drill_end' }, 0))).toBe(true);
    expect(endsWithDrill(effect({ type: 'broadcast_stop', reason: 'drill_end' }, 0))).toBe(true);
    expect(endsWithDrill(effect({ type: 'indicator', indicator: 'drill', state: 'off' }, 0))).toBe(true);
    expect(endsWithDrill(effect({ type: 'siren', pattern: 'air_raid_alarm' }, 0))).toBe(false);
    expect(endsWithDrill(ev('transition', { transition: 'raised' }, 0))).toBe(false);
  });
});

function aDrill(): { run: DrillRun; events: StoredEvent[] } {
  seq = 100;
  const events: StoredEvent[] = [
    cmd({ type: 'drill', kind: 'water_level', level: 'red' }, 'wang', 0),
    effect({ type: 'siren', actuator: 'siren1', activity: 'act-9', priority: 'drill', by: 'wang', drill: true, pattern: 'air_raid_alarm', clamped: false }, 0),
    effect({ type: 'broadcast', actuator: 'spk1', activity: 'act-9', by: 'wang', drill: true, repeat: 3, textZh: '【演练】洪水红色预警演练', textEn: '[DRILL] red flood warning drill' }, 0),
    effect({ type: 'broadcast', actuator: 'spk2', activity: 'act-9', by: 'wang', drill: true, repeat: 3, textZh: '【演练】洪水红色预警演练', textEn: '[DRILL] …' }, 0),
    effect({ type: 'indicator', indicator: 'drill', state: 'on' }, 0),
    ev('session', { action: 'sign_in', username: 'li', role: 'observer', address: '10.0.0.7', via: 'panel' }, 10),
    ev('observation', { sensor: 'rg1', what: 'counter_wrap' }, 12),
    ev('transition', { transition: 'raised', alert: 'wl1/stage/1', kind: 'water_level', level: 'yellow', zone: 'river', sensors: ['wl1'], textZh: '水位 2.60 米,超过警戒水位', textEn: 'water at 2.60 m, above warning' }, 20),
    effect({ type: 'broadcast', actuator: 'spk1', activity: 'act-10', by: 'engine', alert: 'wl1/stage/1', drill: false, repeat: 3, textZh: '<script>alert(1)</script>', textEn: 'x' }, 20),
    cmd({ type: 'broadcast_done', actuator: 'spk1', activity: 'act-9' }, 'spk1', 30, true, 'device', 'actuator'),
    ev('transition', { transition: 'escalated', alert: 'wl1/stage/1', kind: 'water_level', level: 'orange', zone: 'river', textZh: '水位超保证', textEn: 'above guaranteed' }, 40),
    cmd({ type: 'ack', alert: 'wl1/stage/1' }, 'wang', 50),
    ev('transition', { transition: 'acknowledged', alert: 'wl1/stage/1', kind: 'water_level', level: 'orange', zone: 'river', acknowledgedBy: 'wang', textZh: '已确认', textEn: 'acknowledged' }, 50),
    cmd({ type: 'escalate', alert: 'wl1/stage/1', text: '请求支援' }, 'wang', 70),
    ev('escalation', { phase: 'sent', escalation: 'wl1/stage/1/e1', alert: 'wl1/stage/1', by: 'wang', text: '请求支援' }, 70),
    cmd({ type: 'broadcast_done', actuator: 'spk2', activity: 'act-9' }, 'spk2', 75, true, 'device', 'actuator'),
    ev('escalation', { phase: 'acknowledged', escalation: 'wl1/stage/1/e1', alert: 'wl1/stage/1', by: 'wang', ackBy: 'town', acknowledgedBy: '张科长', ackText: '已派人' }, 90),
    ev('transition', { transition: 'acknowledged', alert: 'rg1/rain/0', kind: 'rain', level: 'blue', zone: 'site', acknowledgedBy: 'li', textZh: '雨', textEn: 'rain' }, 95),
    cmd({ type: 'siren', pattern: 'nope' }, 'wang', 100, false),
    ev('transition', { transition: 'cleared', alert: 'wl1/stage/1', kind: 'water_level', level: 'orange', zone: 'river', textZh: '解除', textEn: 'cleared' }, 110),
    cmd({ type: 'drill_end' }, 'li', 125),
    effect({ type: 'siren_off', actuator: 'siren1', activity: 'act-9', reason: 'drill_end', by: 'li' }, 125),
  ];
  const runs: DrillRun[] = [];
  addDrills(runs, events);
  return { run: runs[0]!, events };
}

describe("a drill's review", () => {
  it("the drill's clock: ordered, first siren, first broadcast, every speaker done, ended", () => {
    const { run, events } = aDrill();
    const r = drillReview(run, events);
    expect(r.clock).toEqual({
      ordered: { at: T0, by: 'wang' },
      firstSiren: { at: T0, actuator: 'siren1' },
      firstBroadcast: { at: T0, actuator: 'spk1' },
      spoken: { at: T0 + 75 * S, speakers: 2 },
      ended: { at: T0 + 125 * S, by: 'li' },
    });
  });

  it("each alarm's response clock from the log: raised, acknowledged (who), broadcast, escalated (who), township answer (who), cleared; the highest level", () => {
    const { run, events } = aDrill();
    const [wl, rain] = drillReview(run, events).alarms;
    expect(wl).toEqual({
      alert: 'wl1/stage/1',
      kind: 'water_level',
      level: 'orange',
      zone: 'river',
      textZh: '水位 2.60 米,超过警戒水位',
      textEn: 'water at 2.60 m, above warning',
      raised: T0 + 20 * S,
      acknowledged: { at: T0 + 50 * S, by: 'wang' },
      broadcast: T0 + 20 * S,
      escalated: { at: T0 + 70 * S, by: 'wang' },
      townshipAck: { at: T0 + 90 * S, by: '张科长' },
      cleared: T0 + 110 * S,
    });
    // Raised before the drill, acknowledged in it: no raise time.
    expect(rain).toMatchObject({ alert: 'rg1/rain/0', raised: null, acknowledged: { at: T0 + 95 * S, by: 'li' } });
  });

  it('every event but observations, in order, in words with who; the drill’s own marked; refusals say so', () => {
    const { run, events } = aDrill();
    const r = drillReview(run, events, { patterns: { air_raid_alarm: { nameZh: '紧急警报', nameEn: 'alarm' } } });
    expect(r.observations).toBe(1);
    expect(r.entries).toHaveLength(events.length - 1);
    expect(r.entries.map((e) => e.seq)).toEqual(events.filter((e) => e.type !== 'observation').map((e) => e.seq));
    const by = (s: number) => r.entries.find((e) => e.seq === s)!;
    expect(by(101)).toMatchObject({ who: 'wang', zh: '开始演练:洪水红色预警', en: 'start drill: red flood warning', drill: true });
    expect(by(102)).toMatchObject({ who: 'wang', zh: 'siren1 鸣响 紧急警报(air_raid_alarm)', en: 'siren1 sounds alarm (air_raid_alarm)', drill: true });
    expect(by(106)).toMatchObject({ who: 'li', zh: '登录面板(observer 10.0.0.7)' });
    expect(by(109)).toMatchObject({ who: 'engine', drill: false });
    expect(by(110)).toMatchObject({ who: 'spk1', zh: 'spk1 报告播放完毕(act-9)' });
    expect(by(113)).toMatchObject({ who: 'wang', zh: '警报确认:已确认' });
    expect(by(119).zh).toBe('鸣响警报器:nope(未执行:no)');
    expect(by(122)).toMatchObject({ who: 'li', zh: 'siren1 停止鸣响(演练结束)', en: 'siren1 siren off (drill_end)' });
    expect([r.firstSeq, r.lastSeq, r.truncated]).toEqual([101, 122, false]);
  });

  it('at most MAX_ENTRIES events are listed, and it says so', () => {
    seq = 0;
    const events = [cmd({ type: 'drill' }, 'wang', 0), ...Array.from({ length: MAX_ENTRIES + 5 }, (_, i) => cmd({ type: 'silence' }, 'wang', i))];
    const runs: DrillRun[] = [];
    addDrills(runs, events.slice(0, 1));
    const r = drillReview(runs[0]!, events);
    expect(r.entries).toHaveLength(MAX_ENTRIES);
    expect(r.truncated).toBe(true);
  });
});

describe('the review page', () => {
  const page = (): string => {
    const { run, events } = aDrill();
    return reviewHtml(drillReview(run, events, { templates: { evacuation: { nameZh: '紧急撤离', nameEn: 'evacuation' } } }), { site: { id: 'demo', name: '示范社区', nameEn: 'Demo village', utcOffset: '+08:00' }, zoneNames: {}, generatedAt: T0 + 3600 * S });
  };

  it('Chinese first with English, the times on the site clock and since the order, a signature block', () => {
    const html = page();
    expect(html).toMatch(/^<!doctype html>\n<html lang="zh-CN">/);
    expect(html).toContain('演练复盘<span class="en">Drill review</span>');
    expect(html).toContain('一、响应时间<span class="en">Response clock</span>');
    expect(html).toContain('洪水红色预警演练<span class="en">red flood warning drill</span>');
    expect(html).toContain('2026-07-20 09:00:00');
    expect(html).toContain('09:02:05(li)<span class="en">+2:05</span>'); // ended by li, 2 min 5 s after the order
    expect(html).toContain('<td class="t">09:01:15</td><td class="t">+1:15</td><td>2 个喇叭 / speakers</td>');
    expect(html).toContain('值班员签字');
    expect(html).toContain('演练前'); // the rain alert raised before the drill
  });

  it('an A4 print stylesheet, no script, every value from the log escaped; the CSP hash is of its one style', () => {
    const html = page();
    expect(html).toContain('@page { size: A4;');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain(esc('<script>alert(1)</script>'));
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(STYLE_HASH).toBe(`sha256-${createHash('sha256').update(style).digest('base64')}`);
    expect(esc(`a<b>"c'&`)).toBe('a&lt;b&gt;&quot;c&#39;&amp;');
  });

  it('durations: m:ss under an hour, h:mm:ss over', () => {
    expect(since(0, 65_000)).toBe('+1:05');
    expect(since(0, 3_723_000)).toBe('+1:02:03');
    expect(since(10, 0)).toBe('+0:00');
  });

  it('a drill still running says so', () => {
    seq = 0;
    const runs: DrillRun[] = [];
    const events = [cmd({ type: 'drill', zones: ['b3'] }, 'wang', 0)];
    addDrills(runs, events);
    const html = reviewHtml(drillReview(runs[0]!, events), { site: { id: 'd', name: '村', nameEn: 'v', utcOffset: '+08:00' }, zoneNames: { b3: { zh: '3号楼', en: 'Building 3' } }, generatedAt: T0 });
    expect(html).toContain('进行中<span class="en">still running</span>');
    expect(html).toContain('3号楼<span class="en">Building 3</span>');
    expect(html).toContain('演练期间没有警报。');
  });
});
