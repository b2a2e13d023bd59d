/**
 * CAP 1.2 messages for the CAP inbox tests, written the way a county warning platform writes
 * them (CPEAS style, like ../shared/standards/cap/example-cn-baoding-lightning.xml), with every
 * part overridable so a test can break exactly one thing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const STANDARDS = fileURLToPath(new URL('../../../shared/standards/cap/', import.meta.url));
export const BAODING = readFileSync(`${STANDARDS}example-cn-baoding-lightning.xml`);
/** Inside the Baoding example's validity (sent 21:31:38, expires 03:31:38 +08:00). */
export const BAODING_NOW = Date.parse('2024-07-12T22:00:00+08:00');
/** A village in the county (130602) the Baoding example covers. */
export const BAODING_SITE_GEOCODE = '130602101203';

export interface InfoSpec {
  language?: string;
  category?: string;
  event?: string;
  urgency?: string;
  severity?: string;
  certainty?: string;
  onset?: string;
  expires?: string | null;
  headline?: string;
  description?: string;
  instruction?: string;
  areaDesc?: string;
  geocode?: string | null;
  geocodeName?: string;
  polygon?: string;
  circle?: string;
  /** Raw XML put in place of the whole <area>. */
  areaXml?: string;
}

export interface CapSpec {
  identifier?: string;
  sender?: string;
  sent?: string;
  status?: string;
  msgType?: string;
  scope?: string;
  references?: string;
  infos?: InfoSpec[];
  /** Root element and namespace. */
  xmlns?: string;
}

const el = (name: string, v: string | null | undefined): string => (v === undefined || v === null ? '' : `<${name}>${v}</${name}>`);

export const SENDER = 'county-warning-center';
export const T_SENT = '2026-07-20T08:00:00+08:00';
export const T_NOW = Date.parse('2026-07-20T08:05:00+08:00');

export function infoXml(i: InfoSpec = {}): string {
  const area =
    i.areaXml ??
    `<area>${el('areaDesc', i.areaDesc ?? '测试县')}${el('polygon', i.polygon)}${el('circle', i.circle)}${
      i.geocode === null ? '' : `<geocode><valueName>${i.geocodeName ?? 'CPEAS Geographic Code'}</valueName><value>${i.geocode ?? '410102000000'}</value></geocode>`
    }</area>`;
  return `<info>${el('language', i.language ?? 'zh-CN')}${el('category', i.category ?? 'Met')}${el('event', i.event ?? '暴雨')}${el('urgency', i.urgency ?? 'Expected')}${el(
    'severity',
    i.severity ?? 'Severe',
  )}${el('certainty', i.certainty ?? 'Likely')}${el('onset', i.onset)}${el('expires', i.expires === undefined ? '2026-07-20T20:00:00+08:00' : i.expires)}${el('headline', i.headline ?? '县气象台发布暴雨橙色预警')}${el(
    'description',
    i.description ?? '预计未来3小时内有50毫米以上降雨',
  )}${el('instruction', i.instruction)}${area}</info>`;
}

export function capXml(s: CapSpec = {}): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="${s.xmlns ?? 'urn:oasis:names:tc:emergency:cap:1.2'}">${el('identifier', s.identifier ?? '41010241600000_20260720080000')}${el('sender', s.sender ?? SENDER)}${el('sent', s.sent ?? T_SENT)}${el(
    'status',
    s.status ?? 'Actual',
  )}${el('msgType', s.msgType ?? 'Alert')}${el('scope', s.scope ?? 'Public')}${el('references', s.references)}${(s.infos ?? [{}]).map(infoXml).join('')}</alert>`;
}

/** `sender,identifier,sent` of a message written by capXml. */
export function ref(identifier: string, sent = T_SENT, sender = SENDER): string {
  return `${sender},${identifier},${sent}`;
}
