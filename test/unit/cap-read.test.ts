/**
 * The CAP reader: every real example in ../shared/standards/cap reads (and the schema's bad
 * example is refused), the test messages of these tests are themselves schema-valid (xmllint),
 * and each bad input is refused with its own reason code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CAP_MAX_BYTES, readCap, type CapAlert, type CapRead } from '../../gateway/cap/cap-read.ts';
import { BAODING, BAODING_NOW, STANDARDS, T_NOW, capXml, infoXml, ref } from '../helpers/cap-messages.ts';

const at = { now: T_NOW, clockTrusted: true };
const ok = (r: CapRead): CapAlert => {
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.alert;
};
const reason = (xml: string | Buffer, o = at): string => {
  const r = readCap(xml, o);
  return r.ok ? 'ok' : r.reason;
};

const dir = mkdtempSync(join(tmpdir(), 'cap-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CAP reader: real messages', () => {
  it('reads the Baoding lightning warning: an Update with references, two languages, a CPEAS geocode', () => {
    const a = ok(readCap(BAODING, { now: BAODING_NOW, clockTrusted: true }));
    expect([a.identifier, a.sender, a.status, a.msgType, a.scope]).toEqual(['13060041600000_20240712213138', 'Baoding_Meteorological_Observatory', 'Actual', 'Update', 'Public']);
    expect(a.sent).toBe(Date.parse('2024-07-12T21:31:38+08:00'));
    expect(a.references).toEqual([{ sender: 'Baoding_Meteorological_Observatory', identifier: '13060041600000_20240712073642', sent: '2024-07-12T21:31:38+08:00' }]);
    expect(a.infos.map((i) => i.language)).toEqual(['en-US', 'zh-CN']);
    const zh = a.infos[1]!;
    expect([zh.event, zh.urgency, zh.severity, zh.certainty, zh.headline]).toEqual(['雷电', 'Unknown', 'Moderate', 'Unknown', '保定市气象台更新雷电黄色预警[Ⅲ级/较重]']);
    expect(zh.expires).toBe(Date.parse('2024-07-13T03:31:38+08:00'));
    expect(zh.areas).toEqual([{ areaDesc: '新市区', polygons: [], circles: [], geocodes: [{ valueName: 'CPEAS Geographic Code', value: '130602000000' }] }]);
  });

  it('reads every national example (AT BE CA DE DZ US, OASIS amber) and refuses the schema-invalid one', () => {
    const files = ['example-oasis-amber.xml', ...readdirSync(join(STANDARDS, 'examples')).map((f) => `examples/${f}`)];
    const got = Object.fromEntries(files.map((f) => [f, reason(readFileSync(join(STANDARDS, f)), { now: 0, clockTrusted: false })]));
    expect(got).toEqual({
      'example-oasis-amber.xml': 'ok',
      'examples/at_valid.xml': 'ok',
      'examples/be_valid.xml': 'ok',
      'examples/ca_valid.xml': 'ok',
      'examples/de_valid.xml': 'ok',
      'examples/dz_valid.xml': 'ok',
      'examples/invalid-status-bogus.xml': 'bad_value',
      'examples/us_valid.xml': 'ok',
    });
    const ca = ok(readCap(readFileSync(join(STANDARDS, 'examples/ca_valid.xml')), { now: 0, clockTrusted: false }));
    const poly = ca.infos[0]!.areas[0]!.polygons[0]!;
    expect(poly.length).toBeGreaterThanOrEqual(4);
    expect(poly[0]).toEqual(poly[poly.length - 1]);
  });

  it("this suite's own messages are valid CAP 1.2 by the OASIS schema", () => {
    const messages = [
      capXml(),
      capXml({ msgType: 'Update', references: ref('a1') }),
      capXml({ status: 'Test' }),
      capXml({ infos: [{ polygon: '34.7,113.6 34.8,113.6 34.8,113.7 34.7,113.6', circle: '34.75,113.65 5', geocode: null }] }),
    ];
    for (const [n, xml] of messages.entries()) {
      const file = join(dir, `m${n}.xml`);
      writeFileSync(file, xml);
      const r = spawnSync('xmllint', ['--noout', '--schema', join(STANDARDS, 'CAP-v1.2.xsd'), file], { encoding: 'utf8' });
      if (r.error) throw r.error;
      expect(`${r.stdout}${r.stderr}`, xml).toContain('validates');
      expect(reason(xml)).toBe('ok');
    }
  });

  it('a prefixed namespace (<cap:alert xmlns:cap=…>) reads like the default one', () => {
    const xml = capXml().replace(/<(\/?)([a-zA-Z]+)/g, (_m, slash: string, name: string) => `<${slash}cap:${name}`).replace('xmlns=', 'xmlns:cap=').replace('<cap:?xml', '<?xml');
    const a = ok(readCap(xml, at));
    expect([a.identifier, a.infos[0]!.event, a.infos[0]!.areas[0]!.geocodes[0]!.value]).toEqual(['41010241600000_20260720080000', '暴雨', '410102000000']);
  });

  it('decodes the five XML entities and character references, and nothing else', () => {
    const a = ok(readCap(capXml({ infos: [{ headline: '甲 &amp; 乙 &lt;3&gt; &#x4e2d;&#22269;' }] }), at));
    expect(a.infos[0]!.headline).toBe('甲 & 乙 <3> 中国');
    expect(reason(capXml({ infos: [{ headline: 'x &nbsp; y' }] }))).toBe('not_xml');
  });

  it('language defaults to en-US (§3.2.2); empty optional elements read as absent', () => {
    const a = ok(readCap(capXml({ infos: [{ language: '', headline: '' }] }).replace('<language></language>', ''), at));
    expect(a.infos[0]!.language).toBe('en-US');
    expect(a.infos[0]!.headline).toBeNull();
  });
});

describe('CAP reader: refusals, each with its reason', () => {
  it('too large, before parsing', () => {
    const big = capXml({ infos: [{ description: 'x'.repeat(CAP_MAX_BYTES) }] });
    expect(readCap(big, at)).toMatchObject({ ok: false, reason: 'too_large' });
  });

  it('not XML: garbage, unclosed tags, invalid UTF-8, empty', () => {
    expect(reason('hello')).toBe('not_xml');
    expect(reason(capXml().replace('</alert>', ''))).toBe('not_xml');
    expect(reason(Buffer.from([0x3c, 0x61, 0xff, 0xfe, 0x3e]))).toBe('not_xml');
    expect(reason('')).toBe('not_xml');
    const r = readCap('<alert><identifier>x</alert>', at);
    expect(!r.ok && r.detail).toMatch(/line 1/);
  });

  it('a DOCTYPE (entity expansion, external entities) is refused before the parser sees it', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>${capXml().replace(/^<\?xml[^>]*>/, '').replace('暴雨', '&b;')}`;
    expect(reason(bomb)).toBe('dtd_forbidden');
    const xxe = `<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>`;
    expect(reason(xxe)).toBe('dtd_forbidden');
  });

  it('not CAP 1.2: another root, no namespace, the CAP 1.1 namespace, two roots', () => {
    expect(reason('<feed xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>')).toBe('not_cap');
    expect(reason(capXml({ xmlns: '' }).replace(' xmlns=""', ''))).toBe('not_cap');
    const r = readCap(capXml({ xmlns: 'urn:oasis:names:tc:emergency:cap:1.1' }), at);
    expect(r).toMatchObject({ ok: false, reason: 'not_cap' });
    expect(!r.ok && r.detail).toContain('cap:1.1');
  });

  it('a missing required element names its path', () => {
    for (const name of ['identifier', 'sender', 'sent', 'status', 'msgType', 'scope']) {
      const xml = capXml().replace(new RegExp(`<${name}>[^<]*</${name}>`), '');
      const r = readCap(xml, at);
      expect(r, name).toMatchObject({ ok: false, reason: 'missing_element' });
      expect(!r.ok && r.detail).toContain(`/alert/${name}`);
    }
    for (const name of ['category', 'event', 'urgency', 'severity', 'certainty', 'areaDesc']) {
      const r = readCap(capXml().replace(new RegExp(`<${name}>[^<]*</${name}>`), ''), at);
      expect(r, name).toMatchObject({ ok: false, reason: 'missing_element' });
      expect(!r.ok && r.detail).toContain(`/alert/info[1]/`);
    }
    expect(reason(capXml({ infos: [{ areaXml: '<area><areaDesc>x</areaDesc><geocode><valueName>CPEAS Geographic Code</valueName></geocode></area>' }] }))).toBe('missing_element');
  });

  it('bad values: an unknown enum, a space or comma in identifier/sender, malformed references, an element given twice', () => {
    expect(reason(capXml({ msgType: 'Alarm' }))).toBe('bad_value');
    expect(reason(capXml({ scope: 'Everyone' }))).toBe('bad_value');
    expect(reason(capXml({ infos: [{ severity: 'Huge' }] }))).toBe('bad_value');
    expect(reason(capXml({ infos: [{ urgency: 'Soon' }] }))).toBe('bad_value');
    expect(reason(capXml({ infos: [{ certainty: 'Sure' }] }))).toBe('bad_value');
    expect(reason(capXml({ infos: [{ category: 'Weather' }] }))).toBe('bad_value');
    expect(reason(capXml({ identifier: 'a b' }))).toBe('bad_value');
    expect(reason(capXml({ sender: 'a,b' }))).toBe('bad_value');
    expect(reason(capXml({ msgType: 'Update', references: 'only-two,parts' }))).toBe('bad_value');
    expect(reason(capXml().replace('<status>Actual</status>', '<status>Actual</status><status>Test</status>'))).toBe('bad_value');
  });

  it('impossible times: unparseable, not on the calendar, sent far ahead of a trusted clock, expires before sent or onset', () => {
    expect(reason(capXml({ sent: 'yesterday' }))).toBe('impossible_time');
    expect(reason(capXml({ sent: '2026-02-30T08:00:00+08:00' }))).toBe('impossible_time');
    expect(reason(capXml({ sent: '2026-07-20T24:00:00+08:00' }))).toBe('impossible_time');
    expect(reason(capXml({ sent: '2026-07-20T08:00:00+25:00' }))).toBe('impossible_time');
    expect(reason(capXml({ sent: '2026-07-20T10:00:00+08:00' }))).toBe('impossible_time'); // 1 h 55 min ahead
    expect(reason(capXml({ sent: '2026-07-20T08:50:00+08:00' }))).toBe('ok'); // 45 min ahead: a skewed sender clock
    expect(reason(capXml({ infos: [{ expires: '2026-07-20T07:00:00+08:00' }] }))).toBe('impossible_time');
    expect(reason(capXml({ infos: [{ onset: '2026-07-20T12:00:00+08:00', expires: '2026-07-20T10:00:00+08:00' }] }))).toBe('impossible_time');
    expect(reason(capXml({ infos: [{ expires: 'soon' }] }))).toBe('impossible_time');
  });

  it('an untrusted box clock does not judge sent; Z and fractions are accepted (unambiguous)', () => {
    expect(reason(capXml({ sent: '2026-07-20T10:00:00+08:00' }), { now: 0, clockTrusted: false })).toBe('ok');
    expect(ok(readCap(capXml({ sent: '2026-07-20T00:00:00Z' }), at)).sent).toBe(Date.parse('2026-07-20T08:00:00+08:00'));
    expect(reason(capXml({ sent: '2026-07-20T00:00:00.250Z' }))).toBe('ok');
  });

  it('unclosed polygons: first ≠ last, or fewer than 4 points', () => {
    const r = readCap(capXml({ infos: [{ polygon: '34.7,113.6 34.8,113.6 34.8,113.7 34.7,113.7' }] }), at);
    expect(r).toMatchObject({ ok: false, reason: 'unclosed_polygon' });
    expect(!r.ok && r.detail).toContain('not closed');
    expect(reason(capXml({ infos: [{ polygon: '34.7,113.6 34.8,113.6 34.7,113.6' }] }))).toBe('unclosed_polygon');
    expect(reason(capXml({ infos: [{ polygon: '34.7,113.6' }] }))).toBe('unclosed_polygon');
  });

  it('bad coordinates: off the globe, not numbers, a negative radius, a circle without radius', () => {
    expect(reason(capXml({ infos: [{ polygon: '94.7,113.6 34.8,113.6 34.8,113.7 94.7,113.6' }] }))).toBe('bad_coordinates');
    expect(reason(capXml({ infos: [{ polygon: '34.7;113.6 34.8,113.6 34.8,113.7 34.7;113.6' }] }))).toBe('bad_coordinates');
    expect(reason(capXml({ infos: [{ polygon: 'a,b c,d e,f a,b' }] }))).toBe('bad_coordinates');
    expect(reason(capXml({ infos: [{ circle: '34.7,190 5' }] }))).toBe('bad_coordinates');
    expect(reason(capXml({ infos: [{ circle: '34.7,113.6 -5' }] }))).toBe('bad_coordinates');
    expect(reason(capXml({ infos: [{ circle: '34.7,113.6' }] }))).toBe('bad_coordinates');
  });

  it('deep nesting is refused, not a stack overflow', () => {
    const deep = `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">${'<a>'.repeat(30_000)}${'</a>'.repeat(30_000)}</alert>`;
    expect(reason(deep)).toBe('not_xml');
  });

  it('never throws, whatever the bytes', () => {
    const base = Buffer.from(capXml());
    for (let n = 0; n < 300; n++) {
      const b = Buffer.from(base);
      for (let k = 0; k < 4; k++) b[(n * 7919 + k * 104729) % b.length] = (n * 31 + k * 17) & 0xff;
      expect(() => readCap(b, at)).not.toThrow();
    }
    expect(() => readCap(infoXml(), at)).not.toThrow();
  });
});
