/**
 * Alert transitions as OASIS CAP 1.2 messages, the format China's national warning release
 * system (CPEAS) and most public alerting networks take in. One message per transition:
 * `raised` is an Alert, later changes are Updates and the clear is a Cancel, each with a new
 * identifier and `references` to every earlier message of that alert (CAP tools that reused
 * the identifier had their updates dropped as duplicates).
 * Section numbers below are those of the CAP 1.2 specification (OASIS Standard, 2010);
 * element order is the XSD `sequence`, which validators enforce.
 */
import { placeFor } from '../config/places.ts';
import type { SiteConfig } from '../config/types.ts';
import { LEVEL_ZH } from '../engine/text.ts';
import type { AlertKind, AlertTransition, Level, TransitionType } from '../engine/types.ts';
import { levelRank } from '../engine/types.ts';
import { CapIdentifiers, capTime } from './cap-time.ts';

export { capTime, CapIdentifiers } from './cap-time.ts';

export interface CapMessage {
  identifier: string;
  sent: string;
  /** The info blocks' `expires` (§3.2.2), or null when the message has none (a Cancel). */
  expires: string | null;
  xml: string;
}

export interface CapContext {
  config: SiteConfig;
  /** identifiers of earlier messages about this alert, oldest first, as `sender,identifier,sent` triples (CAP 1.2 references format) */
  references: string[];
  /** true when the transition was caused by a drill → status Exercise */
  drill?: boolean;
}

/** How long an active alert stays valid without a newer message. Mirrors the 6 h of CMA signals. */
const EXPIRES_MS = 6 * 3600_000;
/** §3.2.2 headline: "160 characters may be a useful target limit" (SMS). */
const HEADLINE_MAX = 160;

const CATEGORY: Record<AlertKind, string> = { rain: 'Met', water_level: 'Met', smoke: 'Fire', fault: 'Infra' };
const EVENT: Record<AlertKind, { zh: string; en: string }> = {
  rain: { zh: '暴雨', en: 'rainstorm' },
  water_level: { zh: '洪水', en: 'flood' },
  smoke: { zh: '火警', en: 'fire' },
  fault: { zh: '设备故障', en: 'sensor fault' },
};
/** §3.2.2 event: what the alert warns of. A rain rule says it itself (only the CMA signals are 暴雨). */
function eventOf(t: AlertTransition): { zh: string; en: string } {
  return t.kind === 'rain' && t.label ? t.label : EVENT[t.kind];
}

/** China's colour → CAP severity ladder (CPEAS practice; see standards/cap/README.md). */
const SEVERITY: Record<Level, string> = { info: 'Unknown', blue: 'Minor', yellow: 'Moderate', orange: 'Severe', red: 'Extreme' };

/** §3.3.3: only the five predefined XML entities; characters XML 1.0 forbids are dropped. */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** An element: text content, or children in schema order. `null` children are skipped. */
type Node = [name: string, content: string | (Node | null)[]];

function render(node: Node, indent: string): string {
  const [name, content] = node;
  if (typeof content === 'string') return `${indent}<${name}>${escapeXml(content)}</${name}>`;
  const inner = content.filter((c): c is Node => c !== null).map((c) => render(c, `${indent}  `));
  return `${indent}<${name}>\n${inner.join('\n')}\n${indent}</${name}>`;
}

/** §3.2.1 status. A drill must never look real, so it wins over System; faults are the network's own business. */
function status(t: AlertTransition, drill: boolean): string {
  if (drill) return 'Exercise';
  return t.kind === 'fault' ? 'System' : 'Actual';
}

/** §3.2.1 msgType. */
function msgType(t: AlertTransition): 'Alert' | 'Update' | 'Cancel' {
  if (t.transition === 'raised') return 'Alert';
  return t.transition === 'cleared' ? 'Cancel' : 'Update';
}

/** §3.2.2 responseType: what people should do now. */
function responseType(t: AlertTransition): string {
  if (t.transition === 'cleared') return 'AllClear';
  if (t.kind === 'fault' || t.level === 'info') return 'Monitor';
  if (levelRank(t.level) >= levelRank('orange')) return t.kind === 'rain' ? 'Shelter' : 'Evacuate';
  return 'Prepare';
}

/** §3.2.2 urgency: red/orange act now, yellow/blue within the hour or so, faults unknown. */
function urgency(t: AlertTransition): string {
  if (t.transition === 'cleared') return 'Past';
  if (t.kind === 'fault' || t.level === 'info') return 'Unknown';
  return levelRank(t.level) >= levelRank('orange') ? 'Immediate' : 'Expected';
}

/** §3.2.2 certainty: the box reports measurements; one smoke detector alone is only a possible fire. */
function certainty(t: AlertTransition): string {
  return t.rule === 'smoke_pre_alarm' ? 'Possible' : 'Observed';
}

function truncate(text: string, max: number): string {
  const chars = Array.from(text); // code points, so a Chinese character is never split
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

const FAULT_SUFFIX: Partial<Record<TransitionType, [string, string]>> = { cleared: ['已恢复', ' cleared'], acknowledged: ['已确认', ' acknowledged'] };

/** §3.2.2 headline, e.g. `示范社区 暴雨红色预警` / `demo red rainstorm warning`. */
function headlines(t: AlertTransition, config: SiteConfig): { zh: string; en: string } {
  const { name, nameEn } = config.site;
  const ev = eventOf(t);
  let zh: string;
  let en: string;
  if (t.kind === 'fault') {
    const [sz, se] = FAULT_SUFFIX[t.transition] ?? ['', ''];
    zh = `${name} ${ev.zh}${sz}`;
    en = `${nameEn} ${ev.en}${se}`;
  } else {
    const lz = LEVEL_ZH[t.level];
    const warnZh = t.level === 'info' ? `${ev.zh}提示` : `${ev.zh}${lz}预警`;
    const warnEn = t.level === 'info' ? `${ev.en} advisory` : `${t.level} ${ev.en} warning`;
    switch (t.transition) {
      case 'escalated':
        [zh, en] = [`${name} ${ev.zh}预警升为${lz}`, `${nameEn} ${ev.en} warning raised to ${t.level}`];
        break;
      case 'deescalated':
        [zh, en] = [`${name} ${ev.zh}预警降为${lz}`, `${nameEn} ${ev.en} warning lowered to ${t.level}`];
        break;
      case 'acknowledged':
        [zh, en] = [`${name} ${warnZh}(已确认)`, `${nameEn} ${warnEn} acknowledged`];
        break;
      case 'cleared':
        [zh, en] = [`${name} ${warnZh}解除`, `${nameEn} ${warnEn} cleared`];
        break;
      default:
        [zh, en] = [`${name} ${warnZh}`, `${nameEn} ${warnEn}`];
    }
  }
  return { zh: truncate(zh, HEADLINE_MAX), en: truncate(en, HEADLINE_MAX) };
}

/**
 * §3.2.2 instruction from the shelter and route of the alert's zone (config/places.ts), for hazards at yellow and above.
 * Given on every message of a live alert, not only raised/escalated: an Update supersedes the
 * earlier messages (§3.2.1 msgType), so an acknowledged red alert without it would drop the
 * evacuation advice from receivers that show only the latest message.
 */
function instructions(t: AlertTransition, config: SiteConfig): { zh: string; en: string } | null {
  if (t.kind === 'fault' || t.transition === 'cleared' || levelRank(t.level) < levelRank('yellow')) return null;
  const { shelter, route } = placeFor(config, t.zone);
  if (responseType(t) === 'Prepare') {
    return { zh: `请做好准备,必要时沿${route.zh}前往${shelter.zh}`, en: `Be ready to follow ${route.en} to ${shelter.en} if told to` };
  }
  return { zh: `请沿${route.zh}前往${shelter.zh}`, en: `Follow ${route.en} to ${shelter.en}` };
}

/** §3.2.4 area: the site, narrowed to the zone in words; circle and CPEAS geocode when configured. */
function area(t: AlertTransition, config: SiteConfig, lang: 'zh' | 'en'): Node {
  const { site } = config;
  const zone = t.zone === 'site' ? null : config.zones.find((z) => z.id === t.zone);
  const zoneName = t.zone === 'site' ? '' : (lang === 'zh' ? zone?.name : zone?.nameEn) ?? t.zone;
  const siteName = lang === 'zh' ? site.name : site.nameEn;
  const c = site.cap.circle;
  return ['area', [
    ['areaDesc', zoneName ? `${siteName} ${zoneName}` : siteName],
    // §3.2.4 circle: "lat,lon radius" in WGS 84 (§3.3.1) and km. Config coordinates must be WGS 84, not GCJ-02.
    c ? ['circle', `${c.lat},${c.lon} ${c.radiusKm}`] : null,
    site.cap.geocode ? ['geocode', [['valueName', 'CPEAS Geographic Code'], ['value', site.cap.geocode]]] : null,
  ]];
}

function parameters(t: AlertTransition): Node[] {
  const pairs: [string, string][] = Object.entries(t.values).map(([k, v]) => [k, String(v)]);
  pairs.push(['alert_id', t.alert], ['rule', t.rule], ['level', t.level], ['transition', t.transition]);
  if (t.previousLevel !== null) pairs.push(['previous_level', t.previousLevel]);
  if (t.acknowledgedBy) pairs.push(['acknowledged_by', t.acknowledgedBy]);
  return pairs.map(([k, v]) => ['parameter', [['valueName', k], ['value', v]]]);
}

/** Turns one transition into a CAP 1.2 message; `id` comes from the caller's CapIdentifiers. */
export function transitionToCap(t: AlertTransition, ctx: CapContext, id: { identifier: string; sent: string }): CapMessage {
  const { config } = ctx;
  const type = msgType(t);
  const offset = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d)$/.exec(id.sent)?.[1];
  if (!offset) throw new RangeError(`sent is not a CAP 1.2 time (§3.3.2): ${id.sent}`);
  // Same offset as `sent`, so both read as one wall clock.
  const expires = type === 'Cancel' ? null : capTime(Date.parse(id.sent) + EXPIRES_MS, offset);
  const head = headlines(t, config);
  const instr = instructions(t, config);
  const params = parameters(t);

  const info = (lang: 'zh' | 'en'): Node => ['info', [
    ['language', lang === 'zh' ? 'zh-CN' : 'en-US'],
    ['category', CATEGORY[t.kind]],
    ['event', eventOf(t)[lang]],
    ['responseType', responseType(t)],
    ['urgency', urgency(t)],
    ['severity', t.kind === 'fault' ? 'Unknown' : SEVERITY[t.level]],
    ['certainty', certainty(t)],
    ['effective', id.sent],
    expires ? ['expires', expires] : null,
    ['senderName', lang === 'zh' ? config.site.name : config.site.nameEn],
    ['headline', head[lang]],
    ['description', lang === 'zh' ? t.textZh : t.textEn],
    instr ? ['instruction', instr[lang]] : null,
    ...params,
    area(t, config, lang),
  ]];

  // §3.2.1 references: "sender,identifier,sent" triples separated by whitespace.
  const refs = ctx.references.length ? ctx.references.join(' ') : null;
  const alert: Node = ['alert', [
    ['identifier', id.identifier],
    ['sender', config.site.cap.sender],
    ['sent', id.sent],
    ['status', status(t, ctx.drill === true)],
    ['msgType', type],
    ['scope', 'Public'],
    // An Update or Cancel whose earlier messages were lost (e.g. gateway restarted) says so.
    type !== 'Alert' && !refs ? ['note', 'earlier messages of this alert are not known to the sender'] : null,
    refs ? ['references', refs] : null,
    info('zh'),
    info('en'),
  ]];
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${render(alert, '').replace(/^<alert>/, '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">')}\n`;
  return { identifier: id.identifier, sent: id.sent, expires, xml };
}

/**
 * Keeps the chain per alert id: call with each transition, returns the CapMessage and
 * remembers references; `cleared` drops the alert's chain after using it.
 * The chain lives in memory only; after a restart the next Update/Cancel carries a note instead.
 */
export class CapExporter {
  private readonly ids: CapIdentifiers;
  private readonly chains = new Map<string, string[]>();

  constructor(private readonly config: SiteConfig) {
    this.ids = new CapIdentifiers(config);
  }

  export(t: AlertTransition, drill?: boolean): CapMessage {
    const id = this.ids.next(t.at);
    const references = t.transition === 'raised' ? [] : (this.chains.get(t.alert) ?? []);
    const msg = transitionToCap(t, { config: this.config, references, drill }, id);
    if (t.transition === 'cleared') this.chains.delete(t.alert);
    else this.chains.set(t.alert, [...references, `${this.config.site.cap.sender},${msg.identifier},${msg.sent}`]);
    return msg;
  }
}
