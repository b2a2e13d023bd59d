/**
 * Reads a CAP 1.2 message that came in from the township's warning tree (`sb/v1/cap/#`):
 * bytes in, a typed `CapAlert` or a refusal with a reason code and words out. Pure (the clock is
 * a parameter). It lives beside the exporter (cap-xml.ts) because both are the box's knowledge
 * of the CAP format; what the box then does with a message is cap-inbox.ts's business.
 *
 * Untrusted XML: the size is bounded before parsing, a DOCTYPE (and so any entity definition)
 * is refused outright, fast-xml-parser runs with entity processing off, and only XML's five
 * predefined entities and character references are decoded, here. Section numbers are those
 * of the CAP 1.2 specification (OASIS Standard, 2010).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const CAP_NS = 'urn:oasis:names:tc:emergency:cap:1.2';
/** A CAP message is a few KiB (the Baoding example is 4 KiB); a polygon of a whole county fits easily. */
export const CAP_MAX_BYTES = 256 * 1024;
/** A `sent` this far ahead of a trusted box clock is not a clock skew but a wrong message. */
export const SENT_FUTURE_MAX_MS = 3600_000;

export type CapRejectReason =
  | 'too_large'
  | 'not_xml'
  | 'dtd_forbidden'
  | 'not_cap'
  | 'missing_element'
  | 'bad_value'
  | 'impossible_time'
  | 'unclosed_polygon'
  | 'bad_coordinates';

export interface LatLon {
  lat: number;
  lon: number;
}

export interface CapCircle {
  centre: LatLon;
  radiusKm: number;
}

export interface CapGeocode {
  valueName: string;
  value: string;
}

export interface CapArea {
  areaDesc: string;
  /** §3.3.1 WGS 84 points, closed (first = last), at least 4. */
  polygons: LatLon[][];
  circles: CapCircle[];
  geocodes: CapGeocode[];
}

export interface CapInfo {
  /** §3.2.2: "en-US" when absent. */
  language: string;
  categories: string[];
  event: string;
  urgency: Urgency;
  severity: Severity;
  certainty: string;
  senderName: string | null;
  headline: string | null;
  description: string | null;
  instruction: string | null;
  /** Epoch ms. */
  effective: number | null;
  onset: number | null;
  expires: number | null;
  areas: CapArea[];
}

/** §3.2.1 references: one earlier message as `sender,identifier,sent`. */
export interface CapReference {
  sender: string;
  identifier: string;
  sent: string;
}

export interface CapAlert {
  identifier: string;
  sender: string;
  /** Epoch ms, and as written. */
  sent: number;
  sentText: string;
  status: Status;
  msgType: MsgType;
  scope: string;
  note: string | null;
  references: CapReference[];
  infos: CapInfo[];
}

export type Status = 'Actual' | 'Exercise' | 'System' | 'Test' | 'Draft';
export type MsgType = 'Alert' | 'Update' | 'Cancel' | 'Ack' | 'Error';
export type Urgency = 'Immediate' | 'Expected' | 'Future' | 'Past' | 'Unknown';
export type Severity = 'Extreme' | 'Severe' | 'Moderate' | 'Minor' | 'Unknown';

const STATUS: readonly Status[] = ['Actual', 'Exercise', 'System', 'Test', 'Draft'];
const MSG_TYPE: readonly MsgType[] = ['Alert', 'Update', 'Cancel', 'Ack', 'Error'];
const SCOPE = ['Public', 'Restricted', 'Private'];
const CATEGORY = ['Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other'];
const URGENCY: readonly Urgency[] = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'];
const SEVERITY: readonly Severity[] = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'];
const CERTAINTY = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'];

export type CapRead = { ok: true; alert: CapAlert } | { ok: false; reason: CapRejectReason; detail: string };

export interface ReadOptions {
  /** The box's wall clock, epoch ms. */
  now: number;
  /** False while the box's wall clock is unset: then `sent` is not compared with it (it would be the clock that is wrong). */
  clockTrusted: boolean;
}

/** A refusal, thrown inside the reader and turned into a result at its edge. */
class CapReject extends Error {
  constructor(
    readonly code: CapRejectReason,
    message: string,
  ) {
    super(message);
    this.name = 'CapReject';
  }
}

const REPEATED = new Set(['info', 'area', 'polygon', 'circle', 'geocode', 'category', 'responseType', 'eventCode', 'parameter', 'resource']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Prefixes are kept: removing them would also drop the xmlns attributes the namespace check needs.
  removeNSPrefix: false,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => REPEATED.has(name.slice(name.indexOf(':') + 1)),
});

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML 1.0 §4.6 predefined entities and §4.1 character references; nothing else exists without a DTD. */
function decodeText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (cp > 0x10ffff) throw new CapReject('not_xml', `character reference ${whole} is out of range`);
      return String.fromCodePoint(cp);
    }
    const c = ENTITY[ref];
    if (c === undefined) throw new CapReject('not_xml', `undefined entity ${whole}`);
    return c;
  });
}

type Obj = Record<string, unknown>;

/** An element's children with the root's prefix taken off, so `cap:info` reads as `info`. */
function unprefix(value: unknown, prefix: string): unknown {
  if (Array.isArray(value)) return value.map((v) => unprefix(v, prefix));
  if (value === null || typeof value !== 'object') return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value as Obj)) out[prefix && k.startsWith(prefix) ? k.slice(prefix.length) : k] = unprefix(v, prefix);
  return out;
}

function textOf(v: unknown, path: string): string {
  if (typeof v === 'string') return decodeText(v);
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as Obj)['#text'] === 'string') return decodeText((v as Obj)['#text'] as string);
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v as Obj).every((k) => k.startsWith('@_'))) return '';
  throw new CapReject('bad_value', `${path} must be text, once`);
}

function optText(o: Obj, name: string, path: string): string | null {
  if (!(name in o)) return null;
  const t = textOf(o[name], `${path}/${name}`);
  return t === '' ? null : t;
}

function reqText(o: Obj, name: string, path: string): string {
  const t = optText(o, name, path);
  if (t === null) throw new CapReject('missing_element', `${path}/${name} is required (CAP 1.2)`);
  return t;
}

function list(o: Obj, name: string): unknown[] {
  const v = o[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function oneOf<T extends string>(value: string, allowed: readonly T[], path: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new CapReject('bad_value', `${path} '${value}' is not one of ${allowed.join(', ')}`);
  return value as T;
}

function elements(o: Obj, name: string, path: string): Obj[] {
  return list(o, name).map((v, i) => {
    if (v === '' ) return {};
    if (!v || typeof v !== 'object') throw new CapReject('bad_value', `${path}/${name}[${i + 1}] must have elements`);
    return v as Obj;
  });
}

const TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-](\d\d):(\d\d))$/;

/**
 * §3.3.2 dateTime: `2024-07-12T21:31:38+08:00`. The schema's pattern allows no `Z` and no
 * fractions; they are accepted here since they are unambiguous and a warning must not be lost
 * to a formatting slip. A date that is not on the calendar (02-30, 25:00) is refused.
 */
export function parseCapTime(text: string, path: string): number {
  const m = TIME.exec(text);
  if (!m) throw new CapReject('impossible_time', `${path} '${text}' is not a CAP time (YYYY-MM-DDThh:mm:ss+hh:mm)`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const oh = m[9] ? Number(m[9]) : 0;
  const om = m[10] ? Number(m[10]) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || s > 59 || oh > 14 || om > 59) {
    throw new CapReject('impossible_time', `${path} '${text}' is not a date and time that exists`);
  }
  return Date.parse(text);
}

function optTime(o: Obj, name: string, path: string): number | null {
  const t = optText(o, name, path);
  return t === null ? null : parseCapTime(t, `${path}/${name}`);
}

const NUM = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function point(text: string, path: string): LatLon {
  const parts = text.split(',');
  if (parts.length !== 2 || !NUM.test(parts[0]!) || !NUM.test(parts[1]!)) throw new CapReject('bad_coordinates', `${path}: '${text}' is not "lat,lon"`);
  const lat = Number(parts[0]);
  const lon = Number(parts[1]);
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) throw new CapReject('bad_coordinates', `${path}: ${text} is off the globe (lat ±90, lon ±180)`);
  return { lat, lon };
}

/** §3.2.4 polygon: "a paired set of WGS 84 points … the first and last pairs … must be the same", at least 4. */
function polygon(text: string, path: string): LatLon[] {
  const pts = text.split(/\s+/).filter(Boolean).map((p, i) => point(p, `${path} point ${i + 1}`));
  if (pts.length < 4) throw new CapReject('unclosed_polygon', `${path} has ${pts.length} points; a closed polygon needs at least 4 (first = last)`);
  const a = pts[0]!;
  const z = pts[pts.length - 1]!;
  if (a.lat !== z.lat || a.lon !== z.lon) throw new CapReject('unclosed_polygon', `${path} is not closed: first point ${a.lat},${a.lon} ≠ last point ${z.lat},${z.lon}`);
  return pts;
}

/** §3.2.4 circle: "lat,lon radius", the radius in kilometres. */
function circle(text: string, path: string): CapCircle {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 2 || !NUM.test(parts[1]!)) throw new CapReject('bad_coordinates', `${path}: '${text}' is not "lat,lon radius_km"`);
  const radiusKm = Number(parts[1]);
  if (radiusKm < 0) throw new CapReject('bad_coordinates', `${path}: radius ${radiusKm} km is negative`);
  return { centre: point(parts[0]!, path), radiusKm };
}

function area(o: Obj, path: string): CapArea {
  return {
    areaDesc: reqText(o, 'areaDesc', path),
    polygons: list(o, 'polygon').map((p, i) => polygon(textOf(p, `${path}/polygon[${i + 1}]`), `${path}/polygon[${i + 1}]`)),
    circles: list(o, 'circle').map((c, i) => circle(textOf(c, `${path}/circle[${i + 1}]`), `${path}/circle[${i + 1}]`)),
    geocodes: elements(o, 'geocode', path).map((g, i) => ({ valueName: reqText(g, 'valueName', `${path}/geocode[${i + 1}]`), value: reqText(g, 'value', `${path}/geocode[${i + 1}]`) })),
  };
}

function info(o: Obj, path: string, sent: number): CapInfo {
  const categories = list(o, 'category').map((c, i) => oneOf(textOf(c, `${path}/category[${i + 1}]`), CATEGORY, `${path}/category`));
  if (!categories.length) throw new CapReject('missing_element', `${path}/category is required (CAP 1.2)`);
  const i: CapInfo = {
    language: optText(o, 'language', path) ?? 'en-US',
    categories,
    event: reqText(o, 'event', path),
    urgency: oneOf(reqText(o, 'urgency', path), URGENCY, `${path}/urgency`),
    severity: oneOf(reqText(o, 'severity', path), SEVERITY, `${path}/severity`),
    certainty: oneOf(reqText(o, 'certainty', path), CERTAINTY, `${path}/certainty`),
    senderName: optText(o, 'senderName', path),
    headline: optText(o, 'headline', path),
    description: optText(o, 'description', path),
    instruction: optText(o, 'instruction', path),
    effective: optTime(o, 'effective', path),
    onset: optTime(o, 'onset', path),
    expires: optTime(o, 'expires', path),
    areas: elements(o, 'area', path).map((a, n) => area(a, `${path}/area[${n + 1}]`)),
  };
  // A message that ends before it was sent, or before its own start, is a wrong message.
  if (i.expires !== null && i.expires < sent) throw new CapReject('impossible_time', `${path}/expires is before sent`);
  if (i.expires !== null && i.onset !== null && i.expires < i.onset) throw new CapReject('impossible_time', `${path}/expires is before onset`);
  if (i.expires !== null && i.effective !== null && i.expires < i.effective) throw new CapReject('impossible_time', `${path}/expires is before effective`);
  return i;
}

/** §3.2.1 identifier and sender: "MUST NOT include spaces, commas or restricted characters (< and &)". */
function token(o: Obj, name: string): string {
  const t = reqText(o, name, '/alert');
  if (/[\s,<&]/.test(t)) throw new CapReject('bad_value', `/alert/${name} '${t}' contains a space, comma, < or &`);
  return t;
}

function references(text: string | null): CapReference[] {
  if (text === null) return [];
  return text.split(/\s+/).filter(Boolean).map((triple) => {
    const parts = triple.split(',');
    if (parts.length !== 3 || parts.some((p) => p === '')) throw new CapReject('bad_value', `/alert/references '${triple}' is not sender,identifier,sent`);
    return { sender: parts[0]!, identifier: parts[1]!, sent: parts[2]! };
  });
}

function rootOf(doc: Obj): { body: Obj; ns: string | undefined; prefix: string } {
  const roots = Object.keys(doc).filter((k) => !k.startsWith('?'));
  if (roots.length !== 1) throw new CapReject('not_cap', `expected one root element <alert>, found ${roots.length ? roots.join(', ') : 'none'}`);
  const name = roots[0]!;
  const colon = name.indexOf(':');
  const local = name.slice(colon + 1);
  if (local !== 'alert') throw new CapReject('not_cap', `root element is <${name}>, not <alert>`);
  const body = doc[name];
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new CapReject('not_cap', 'the <alert> element is empty');
  const attrs = body as Obj;
  const ns = colon < 0 ? attrs['@_xmlns'] : attrs[`@_xmlns:${name.slice(0, colon)}`];
  return { body: attrs, ns: typeof ns === 'string' ? ns : undefined, prefix: colon < 0 ? '' : name.slice(0, colon + 1) };
}

function readAlert(payload: Buffer | string, o: ReadOptions): CapAlert {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > CAP_MAX_BYTES) throw new CapReject('too_large', `${size} bytes > ${CAP_MAX_BYTES}`);
  let xml: string;
  try {
    xml = typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    throw new CapReject('not_xml', 'not UTF-8 text');
  }
  xml = xml.replace(/^\uFEFF/, '');
  // No DTD, so no entity can be defined, expanded or fetched (billion laughs, XXE).
  if (/<!DOCTYPE/i.test(xml)) throw new CapReject('dtd_forbidden', 'a DOCTYPE is not allowed in a CAP message');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new CapReject('not_xml', `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  const root = rootOf(parser.parse(xml) as Obj);
  if (root.ns !== CAP_NS) throw new CapReject('not_cap', `namespace is ${root.ns ? `'${root.ns}'` : 'missing'}, not ${CAP_NS}`);
  const a = unprefix(root.body, root.prefix) as Obj;

  const sentText = reqText(a, 'sent', '/alert');
  const sent = parseCapTime(sentText, '/alert/sent');
  if (o.clockTrusted && sent - o.now > SENT_FUTURE_MAX_MS) {
    throw new CapReject('impossible_time', `/alert/sent ${sentText} is ${Math.round((sent - o.now) / 60_000)} min ahead of the box's clock`);
  }
  return {
    identifier: token(a, 'identifier'),
    sender: token(a, 'sender'),
    sent,
    sentText,
    status: oneOf(reqText(a, 'status', '/alert'), STATUS, '/alert/status'),
    msgType: oneOf(reqText(a, 'msgType', '/alert'), MSG_TYPE, '/alert/msgType'),
    scope: oneOf(reqText(a, 'scope', '/alert'), SCOPE, '/alert/scope'),
    note: optText(a, 'note', '/alert'),
    references: references(optText(a, 'references', '/alert')),
    infos: elements(a, 'info', '/alert').map((i, n) => info(i, `/alert/info[${n + 1}]`, sent)),
  };
}

/** Reads one CAP 1.2 message; never throws for bad input. */
export function readCap(payload: Buffer | string, o: ReadOptions): CapRead {
  try {
    return { ok: true, alert: readAlert(payload, o) };
  } catch (err) {
    if (err instanceof CapReject) return { ok: false, reason: err.code, detail: err.message };
    // The parser itself gave up on something the validator let through.
    return { ok: false, reason: 'not_xml', detail: err instanceof Error ? err.message : String(err) };
  }
}
