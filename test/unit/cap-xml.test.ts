/**
 * CAP 1.2 export: every message produced here is validated against the official OASIS XSD
 * with xmllint, and the validator itself is shown to reject a bad message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CapExporter, CapIdentifiers, capTime, transitionToCap, type CapMessage } from '../../gateway/cap/cap-xml.ts';
import { parseConfig } from '../../gateway/config/load.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { evaluate } from '../../gateway/engine/evaluate.ts';
import { createEngineState } from '../../gateway/engine/state.ts';
import type { AlertKind, AlertTransition, Level, TransitionType } from '../../gateway/engine/types.ts';

const STANDARDS = fileURLToPath(new URL('../../../shared/standards/cap/', import.meta.url));
const XSD = [join(STANDARDS, 'CAP-v1.2.xsd'), process.env.CAP_XSD].find((p): p is string => !!p && existsSync(p));
if (!XSD) throw new Error(`CAP-v1.2.xsd not found at ${STANDARDS}; set CAP_XSD`);
const EXAMPLES = join(XSD, '..');

const dir = mkdtempSync(join(tmpdir(), 'cap-xml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function xmllint(file: string): { status: number | null; output: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD!, file], { encoding: 'utf8' });
  if (r.error) throw r.error; // xmllint missing: fail loudly rather than pass vacuously
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Writes the message, validates it against the XSD and returns it. */
function valid(msg: CapMessage): CapMessage {
  const file = join(dir, `m${++files}.xml`);
  writeFileSync(file, msg.xml);
  const r = xmllint(file);
  expect(r.output, msg.xml).toContain('validates');
  expect(r.status).toBe(0);
  return msg;
}

const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
/** Text of every `<name>` element, in document order. */
const all = (xml: string, name: string): string[] => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => unescape(m[1]!));
const one = (xml: string, name: string): string | undefined => all(xml, name)[0];
/** `<parameter>` pairs of the first info block. */
function params(xml: string): Record<string, string> {
  const first = xml.split('</info>')[0]!;
  return Object.fromEntries([...first.matchAll(/<parameter>\s*<valueName>([^<]*)<\/valueName>\s*<value>([^<]*)<\/value>/g)].map((m) => [m[1], unescape(m[2]!)]));
}

function config(yaml: string): SiteConfig {
  const { config, problems } = parseConfig(yaml);
  expect(problems).toEqual([]);
  return config!;
}

const FULL = config(`
site:
  id: demo
  name: 示范社区
  name_en: demo
  shelter: { zh: 第一小学, en: No. 1 Primary School }
  route: { zh: 东门路, en: East Gate Road }
  cap: { area_code: '410100', agency_code: '41600000', sender: 'shaobing.demo', geocode: '410102000000', circle: { lat: 34.75, lon: 113.62, radius_km: 2 } }
zones:
  - { id: north, name: 北区, name_en: North }
sensors:
  - { id: rg1, kind: rain }
  - { id: sd1, kind: smoke, zone: north }
  - { id: sd2, kind: smoke, zone: north }
`);
const MINIMAL = config(`
site: { id: mini, name: 小区 }
sensors:
  - { id: rg1, kind: rain }
`);

const T0 = Date.UTC(2024, 6, 12, 13, 31, 38, 750); // 21:31:38.750 in Beijing
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;

function transition(kind: AlertKind, type: TransitionType, level: Level, extra: Partial<AlertTransition> = {}): AlertTransition {
  const fault = kind === 'fault';
  return {
    transition: type,
    alert: `x/${kind}/1`,
    kind,
    sensors: ['x'],
    zone: 'site',
    rule: fault ? 'stale' : kind === 'rain' ? 'rain_3h' : kind === 'smoke' ? 'smoke_two_detectors' : 'stage_warning',
    level: fault ? 'info' : level,
    previousLevel: type === 'raised' ? null : level,
    values: fault ? { silent_s: 360 } : { reading: 1.5, detectors: 'sd1、sd2' },
    textZh: '描述',
    textEn: 'description',
    at: T0,
    ...extra,
  };
}

describe('capTime', () => {
  it('writes wall time in the offset, no Z, no fractions (CAP 1.2 §3.3.2)', () => {
    expect(capTime(T0, '+08:00')).toBe('2024-07-12T21:31:38+08:00');
    expect(capTime(T0, '-03:30')).toBe('2024-07-12T10:01:38-03:30');
    expect(capTime(Date.UTC(2024, 11, 31, 16, 0, 0, 999), '+08:00')).toBe('2025-01-01T00:00:00+08:00');
    expect(capTime(T0, '+08:00')).toMatch(TIME);
    expect(() => capTime(T0, 'Z')).toThrow(RangeError);
  });
});

describe('CapIdentifiers', () => {
  it('follows GB/T 35965.1 and stays unique within one second', () => {
    const ids = new CapIdentifiers(FULL);
    const got = [ids.next(T0), ids.next(T0 + 100), ids.next(T0 + 200), ids.next(T0 + 1000)];
    expect(got.map((g) => g.identifier)).toEqual([
      '41010041600000_20240712213138',
      '41010041600000_20240712213138_2',
      '41010041600000_20240712213138_3',
      '41010041600000_20240712213139',
    ]);
    expect(got[0]!.sent).toBe('2024-07-12T21:31:38+08:00');
    // A clock stepped back into a used second does not reuse an identifier.
    expect(ids.next(T0).identifier).toBe('41010041600000_20240712213138_4');
    // Separate objects are separate sites: no shared module state.
    expect(new CapIdentifiers(FULL).next(T0).identifier).toBe('41010041600000_20240712213138');
  });
});

describe('transitionToCap', () => {
  const kinds: AlertKind[] = ['rain', 'water_level', 'smoke', 'fault'];
  const types: TransitionType[] = ['raised', 'escalated', 'deescalated', 'acknowledged', 'cleared'];
  const expected = { raised: 'Alert', escalated: 'Update', deescalated: 'Update', acknowledged: 'Update', cleared: 'Cancel' };

  for (const kind of kinds) {
    it(`${kind}: every transition is schema-valid with the right msgType and status`, () => {
      const ex = new CapExporter(FULL);
      const sent: CapMessage[] = [];
      for (const type of types) {
        const m = valid(ex.export(transition(kind, type, 'orange', { acknowledgedBy: type === 'acknowledged' ? 'duty officer' : undefined })));
        expect(one(m.xml, 'msgType')).toBe(expected[type]);
        expect(one(m.xml, 'status')).toBe(kind === 'fault' ? 'System' : 'Actual');
        expect(one(m.xml, 'scope')).toBe('Public');
        expect(all(m.xml, 'language')).toEqual(['zh-CN', 'en-US']);
        expect(all(m.xml, 'category')).toEqual(Array(2).fill({ rain: 'Met', water_level: 'Met', smoke: 'Fire', fault: 'Infra' }[kind]));
        expect(all(m.xml, 'event')).toEqual({ rain: ['暴雨', 'rainstorm'], water_level: ['洪水', 'flood'], smoke: ['火警', 'fire'], fault: ['设备故障', 'sensor fault'] }[kind]);
        for (const t of [...all(m.xml, 'sent'), ...all(m.xml, 'effective'), ...all(m.xml, 'expires')]) expect(t).toMatch(/^2024-07-1\dT\d\d:\d\d:\d\d\+08:00$/);
        expect(all(m.xml, 'effective')).toEqual([m.sent, m.sent]);
        expect(all(m.xml, 'expires')).toEqual(type === 'cleared' ? [] : Array(2).fill('2024-07-13T03:31:38+08:00'));
        expect(params(m.xml)).toMatchObject({ alert_id: `x/${kind}/1`, level: kind === 'fault' ? 'info' : 'orange', transition: type });
        sent.push(m);
      }
      // References chain: each message names every earlier one of this alert, oldest first.
      for (let i = 0; i < sent.length; i++) {
        const refs = one(sent[i]!.xml, 'references');
        if (i === 0) expect(refs).toBeUndefined();
        else expect(refs).toBe(sent.slice(0, i).map((m) => `shaobing.demo,${m.identifier},${m.sent}`).join(' '));
      }
      expect(new Set(sent.map((m) => m.identifier)).size).toBe(sent.length);
    });
  }

  it('maps colours to severity, urgency and response (China: blue Minor … red Extreme)', () => {
    const cases: [AlertKind, Level, string, string, string][] = [
      ['rain', 'blue', 'Minor', 'Expected', 'Prepare'],
      ['rain', 'yellow', 'Moderate', 'Expected', 'Prepare'],
      ['rain', 'orange', 'Severe', 'Immediate', 'Shelter'],
      ['rain', 'red', 'Extreme', 'Immediate', 'Shelter'],
      ['water_level', 'red', 'Extreme', 'Immediate', 'Evacuate'],
      ['smoke', 'red', 'Extreme', 'Immediate', 'Evacuate'],
      ['water_level', 'info', 'Unknown', 'Unknown', 'Monitor'],
      ['fault', 'info', 'Unknown', 'Unknown', 'Monitor'],
    ];
    const ids = new CapIdentifiers(FULL);
    for (const [kind, level, severity, urgency, response] of cases) {
      const m = valid(transitionToCap(transition(kind, 'raised', level), { config: FULL, references: [] }, ids.next(T0)));
      expect([one(m.xml, 'severity'), one(m.xml, 'urgency'), one(m.xml, 'responseType')], `${kind} ${level}`).toEqual([severity, urgency, response]);
      expect(one(m.xml, 'certainty')).toBe('Observed');
    }
    const clear = valid(transitionToCap(transition('rain', 'cleared', 'red'), { config: FULL, references: [] }, ids.next(T0)));
    expect([one(clear.xml, 'urgency'), one(clear.xml, 'responseType')]).toEqual(['Past', 'AllClear']);
  });

  it('writes headlines, instructions, sender names and area in both languages', () => {
    const ids = new CapIdentifiers(FULL);
    const red = valid(transitionToCap(transition('rain', 'raised', 'red'), { config: FULL, references: [] }, ids.next(T0)));
    expect(all(red.xml, 'headline')).toEqual(['示范社区 暴雨红色预警', 'demo red rainstorm warning']);
    expect(all(red.xml, 'instruction')).toEqual(['请沿东门路前往第一小学', 'Follow East Gate Road to No. 1 Primary School']);
    expect(all(red.xml, 'senderName')).toEqual(['示范社区', 'demo']);
    expect(all(red.xml, 'description')).toEqual(['描述', 'description']);
    expect(all(red.xml, 'circle')).toEqual(['34.75,113.62 2', '34.75,113.62 2']);
    expect(all(red.xml, 'valueName')).toContain('CPEAS Geographic Code');
    expect(all(red.xml, 'value')).toContain('410102000000');
    const cleared = valid(transitionToCap(transition('rain', 'cleared', 'red'), { config: FULL, references: [] }, ids.next(T0)));
    expect(all(cleared.xml, 'headline')).toEqual(['示范社区 暴雨红色预警解除', 'demo red rainstorm warning cleared']);
    expect(all(cleared.xml, 'instruction')).toEqual([]);
    // A site's own rule is no rainstorm signal: its label is the event.
    const flash = valid(transitionToCap(transition('rain', 'raised', 'orange', { rule: 'flash_flood', windowH: 1, label: { zh: '短时强降水', en: 'short-duration heavy rain' } }), { config: FULL, references: [] }, ids.next(T0)));
    expect(all(flash.xml, 'headline')).toEqual(['示范社区 短时强降水橙色预警', 'demo orange short-duration heavy rain warning']);
    expect(all(flash.xml, 'event')).toEqual(['短时强降水', 'short-duration heavy rain']);
    const blue = valid(transitionToCap(transition('rain', 'raised', 'blue'), { config: FULL, references: [] }, ids.next(T0)));
    expect(all(blue.xml, 'instruction')).toEqual([]);
    const zoned = valid(transitionToCap(transition('smoke', 'raised', 'red', { zone: 'north' }), { config: FULL, references: [] }, ids.next(T0)));
    expect(all(zoned.xml, 'areaDesc')).toEqual(['示范社区 北区', 'demo North']);
  });

  it('works with the minimal config (no geocode, no circle, default identifiers)', () => {
    const m = valid(new CapExporter(MINIMAL).export(transition('rain', 'raised', 'yellow')));
    expect(m.identifier).toBe('00000000000000_20240712213138');
    expect(one(m.xml, 'sender')).toBe('shaobing.mini');
    expect(m.xml).not.toContain('<circle>');
    expect(m.xml).not.toContain('<geocode>');
    expect(all(m.xml, 'areaDesc')).toEqual(['小区', 'mini']);
  });

  it('marks drills as Exercise, even for faults', () => {
    const ex = new CapExporter(FULL);
    expect(one(valid(ex.export(transition('water_level', 'raised', 'red'), true)).xml, 'status')).toBe('Exercise');
    expect(one(valid(ex.export(transition('fault', 'raised', 'info'), true)).xml, 'status')).toBe('Exercise');
  });

  it('escapes markup in names and texts', () => {
    const evil = config(`
site: { id: evil, name: '<&>"社区''', name_en: "a<b & c>'d\\"" }
sensors:
  - { id: rg1, kind: rain }
`);
    const m = valid(new CapExporter(evil).export(transition('rain', 'raised', 'red', { textZh: '</description><x>', textEn: 'ok\u0007bell' })));
    expect(m.xml).toContain('<senderName>&lt;&amp;&gt;&quot;社区&apos;</senderName>');
    expect(all(m.xml, 'senderName')).toEqual(['<&>"社区\'', 'a<b & c>\'d"']);
    expect(all(m.xml, 'description')).toEqual(['</description><x>', 'okbell']);
  });

  it('keeps headlines to 160 characters', () => {
    const long = config(`site: { id: long, name: '${'长'.repeat(200)}' }\nsensors:\n  - { id: rg1, kind: rain }\n`);
    const m = valid(new CapExporter(long).export(transition('rain', 'raised', 'red')));
    for (const h of all(m.xml, 'headline')) expect(Array.from(h).length).toBeLessThanOrEqual(160);
  });

  it('drops the chain after a Cancel and keeps alerts apart', () => {
    const ex = new CapExporter(FULL);
    const a = valid(ex.export(transition('rain', 'raised', 'red')));
    valid(ex.export(transition('smoke', 'raised', 'red')));
    const cancel = valid(ex.export(transition('rain', 'cleared', 'red')));
    expect(one(cancel.xml, 'references')).toBe(`shaobing.demo,${a.identifier},${a.sent}`);
    const again = valid(ex.export(transition('rain', 'raised', 'red')));
    expect(one(again.xml, 'references')).toBeUndefined();
    expect(one(valid(ex.export(transition('rain', 'escalated', 'red'))).xml, 'references')).toBe(`shaobing.demo,${again.identifier},${again.sent}`);
  });

  it('notes lost history when an Update has no earlier message', () => {
    const m = valid(new CapExporter(FULL).export(transition('rain', 'escalated', 'red')));
    expect(one(m.xml, 'msgType')).toBe('Update');
    expect(one(m.xml, 'note')).toMatch(/not known/);
  });
});

describe('CapExporter with the engine', () => {
  const MIN = 60_000;

  it('follows a rainstorm from Alert through Updates to Cancel', () => {
    const state = createEngineState(FULL, T0);
    const ex = new CapExporter(FULL);
    const out: CapMessage[] = [];
    // 20 mm a minute for 6 min, then dry: orange at 60 mm, red at 100 mm, down as the 3 h window slides.
    for (let m = 1; m <= 13 * 60; m++) {
      const at = T0 + m * MIN;
      const total = 20 * Math.min(Math.max(m - 1, 0), 6);
      for (const t of evaluate(state, { type: 'reading', reading: { sensor: 'rg1', value: total, at, quality: 'good' } }, at).transitions) {
        if (t.kind === 'rain') out.push(valid(ex.export(t)));
      }
    }
    const types = out.map((m) => one(m.xml, 'msgType'));
    expect(types[0]).toBe('Alert');
    expect(types.at(-1)).toBe('Cancel');
    expect(types.slice(1, -1).every((t) => t === 'Update')).toBe(true);
    expect(out.map((m) => one(m.xml, 'severity'))).toContain('Extreme');
    expect(one(out.at(-1)!.xml, 'references')!.split(' ')).toHaveLength(out.length - 1);
    for (const m of out) expect(m.sent).toMatch(TIME);
  });

  it('a smoke pre-alarm is Possible; the confirmed fire is Observed and Evacuate', () => {
    const state = createEngineState(FULL, T0);
    const ex = new CapExporter(FULL);
    const fire = (sensor: string, value: number, at: number): CapMessage[] =>
      evaluate(state, { type: 'reading', reading: { sensor, value, at, quality: 'good' } }, at).transitions.map((t) => valid(ex.export(t)));
    fire('sd1', 0, T0);
    fire('sd2', 0, T0);
    const [pre] = fire('sd1', 1, T0 + 5000);
    expect([one(pre!.xml, 'certainty'), one(pre!.xml, 'severity'), one(pre!.xml, 'msgType')]).toEqual(['Possible', 'Moderate', 'Alert']);
    const [confirmed] = fire('sd2', 1, T0 + 10_000);
    expect([one(confirmed!.xml, 'certainty'), one(confirmed!.xml, 'responseType'), one(confirmed!.xml, 'msgType')]).toEqual(['Observed', 'Evacuate', 'Update']);
    expect(all(confirmed!.xml, 'areaDesc')).toEqual(['示范社区 北区', 'demo North']);
  });

  it('a stale sensor is a System message', () => {
    const state = createEngineState(FULL, T0);
    const at = T0 + 10 * MIN;
    const msgs = evaluate(state, { type: 'tick' }, at).transitions.map((t) => valid(new CapExporter(FULL).export(t)));
    expect(msgs.length).toBeGreaterThan(0);
    for (const m of msgs) expect([one(m.xml, 'status'), one(m.xml, 'category'), one(m.xml, 'severity')]).toEqual(['System', 'Infra', 'Unknown']);
  });
});

describe('the validator is not vacuous', () => {
  it('rejects a message with a bogus status', () => {
    const r = xmllint(join(EXAMPLES, 'examples', 'invalid-status-bogus.xml'));
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/status/);
  });

  it('accepts the real Baoding lightning warning', () => {
    const r = xmllint(join(EXAMPLES, 'example-cn-baoding-lightning.xml'));
    expect(r.output).toContain('validates');
    expect(r.status).toBe(0);
  });
});
