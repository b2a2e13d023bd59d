/**
 * What the box does with a CAP warning from the township's warning tree: `onCap(state, payload,
 * now) → {state, commands, log}`. Pure (clock injected); the shell (shell/cap-inbox.ts) logs,
 * records and sends the commands. State is owned and updated in place, like the planner's.
 *
 * Decisions (README "CAP warnings from the township"):
 * - An in-area Alert (or an Update of nothing the box knows) becomes a broadcast keyed by its
 *   chain, `cap:<sender>:<identifier of the first message>`. An Update whose `references`
 *   name a message the box acted on replaces that broadcast (same key); if the Update no
 *   longer covers the site, it stops it. A Cancel stops it, whatever its area. A chain the box
 *   does not remember (it restarted) is found by the key its references imply.
 * - Priority from severity and urgency (PRIORITY below). Only status Actual, Extreme and
 *   Immediate sounds a siren (the site's red pattern).
 * - Test and Draft are logged and never sound (no siren, no broadcast): a test message spoken
 *   aloud is a false alarm to whoever hears it. Exercise plays as a drill: priority `drill`,
 *   marked drill, spoken with 演练 first, never a siren. System, Ack and Error are not warnings.
 * - Expired (every in-area info's `expires` passed) and already-seen (sender, identifier) are
 *   ignored. While the box's clock is untrusted nothing is judged expired: the clock, not the
 *   message, would be wrong, and a lost warning costs more than a late one.
 */
import type { CapConfig } from '../config/types.ts';
import type { Command } from '../planner/types.ts';
import { areaCovers, sitePlace, type AreaMatch, type SitePlace } from './cap-area.ts';
import { readCap, type CapAlert, type CapInfo, type CapRejectReason, type Severity, type Urgency } from './cap-read.ts';

/** A chain the box acted on: every message of it maps to the key of its broadcast. */
interface ChainEntry {
  key: string;
  /** Forget after (epoch ms). */
  until: number;
}

export interface CapInboxState {
  place: SitePlace;
  /** `sender,identifier` of every message read, to forget at the value (epoch ms). */
  seen: Map<string, number>;
  /** `sender,identifier` of the messages the box acted on → their broadcast's key. */
  chains: Map<string, ChainEntry>;
}

export interface CapInboxOptions {
  /** The siren pattern an Extreme/Immediate warning sounds (actions.level_patterns.red); null: none. */
  sirenPattern: string | null;
  /** How many times a warning is spoken (actions.broadcast_repeat). */
  repeat: number;
}

/** Memory bounds: a message is remembered for a day past its expiry, or a week when it has none. */
const KEEP_AFTER_EXPIRY_MS = 24 * 3600_000;
const KEEP_NO_EXPIRY_MS = 7 * 24 * 3600_000;
const MAX_REMEMBERED = 10_000;
/** Code points spoken: about a minute of Mandarin TTS, three times within the 300 s broadcast limit. */
export const TEXT_MAX = 300;

export function createCapInbox(cap: CapConfig): CapInboxState {
  return { place: sitePlace(cap), seen: new Map(), chains: new Map() };
}

export type CapOutcome = 'broadcast' | 'replaced' | 'cancelled' | 'ignored' | 'rejected';
export type CapIgnoreReason =
  | 'duplicate'
  | 'test_message'
  | 'draft_message'
  | 'system_message'
  | 'not_a_warning'
  | 'out_of_area'
  | 'expired'
  | 'unknown_reference'
  | 'no_info';

/** One line of what was decided, for the shell's log and the event log. */
export interface CapLog {
  outcome: CapOutcome;
  reason: CapRejectReason | CapIgnoreReason | 'in_area' | 'update_out_of_area' | 'cancel';
  detail: string;
  identifier?: string;
  sender?: string;
  sent?: string;
  status?: string;
  msgType?: string;
  key?: string;
  priority?: string;
  siren?: boolean;
}

export interface CapDecision {
  state: CapInboxState;
  commands: Command[];
  log: CapLog;
}

export type BroadcastPriority = 'emergency' | 'township' | 'drill' | 'routine';

/**
 * Severity × urgency → priority, for status Actual (an Exercise is always `drill`):
 *
 * | severity \ urgency | Immediate           | Expected / Future / Unknown | Past    |
 * |--------------------|---------------------|-----------------------------|---------|
 * | Extreme            | emergency + siren   | emergency                   | routine |
 * | Severe             | emergency           | township                    | routine |
 * | Moderate           | township            | township                    | routine |
 * | Unknown            | township            | township                    | routine |
 * | Minor              | routine             | routine                     | routine |
 *
 * certainty Unlikely lowers anything to routine. `emergency` is an officer's emergency
 * broadcast's rank: above township commands and drills, below the box's own red/orange alarms.
 * Unknown severity stays at township: the box must not play down a warning it cannot grade.
 */
export function priorityOf(severity: Severity, urgency: Urgency, certainty: string): { priority: BroadcastPriority; siren: boolean } {
  if (urgency === 'Past' || certainty === 'Unlikely' || severity === 'Minor') return { priority: 'routine', siren: false };
  if (severity === 'Extreme') return { priority: 'emergency', siren: urgency === 'Immediate' };
  if (severity === 'Severe' && urgency === 'Immediate') return { priority: 'emergency', siren: false };
  return { priority: 'township', siren: false };
}

const RANK: Record<BroadcastPriority, number> = { emergency: 3, township: 2, drill: 1, routine: 0 };

const CATEGORY_ZH: Record<string, string> = {
  Geo: '地质灾害', Met: '气象', Safety: '安全', Security: '治安', Rescue: '救援', Fire: '火灾', Health: '卫生', Env: '环境', Transport: '交通', Infra: '基础设施', CBRNE: '危化品', Other: '',
};
const SEVERITY_ZH: Record<Severity, string> = { Extreme: '特别严重', Severe: '严重', Moderate: '较重', Minor: '一般', Unknown: '' };

function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Headline, description, instruction, each ended as a sentence. */
function spoken(i: CapInfo, stop: string): string {
  const parts = [i.headline ?? i.event, i.description, i.instruction].filter((p): p is string => !!p).map((p) => p.trim().replace(/\s+/g, ' '));
  return parts.map((p) => (/[。.!！?？；;:：]$/.test(p) ? p : `${p}${stop}`)).join(stop === '。' ? '' : ' ');
}

const isZh = (i: CapInfo): boolean => /^zh\b/i.test(i.language);
const isEn = (i: CapInfo): boolean => /^en\b/i.test(i.language);

/**
 * The words: zh-CN preferred, then any zh, then English. Without Chinese the box still speaks
 * (the speaker's TTS is Mandarin): a Chinese lead-in built from the CAP enums — who sent it,
 * the category and the severity — then the original text, so nobody hears only a foreign
 * language they may not follow.
 */
function words(infos: CapInfo[], a: CapAlert, drill: boolean): { textZh: string; textEn: string; language: string } {
  const zh = infos.find((i) => i.language === 'zh-CN') ?? infos.find(isZh);
  const en = infos.find(isEn);
  const prefixZh = drill ? '演练:' : '';
  const prefixEn = drill ? 'Exercise: ' : '';
  if (zh) {
    const textZh = truncate(prefixZh + spoken(zh, '。'), TEXT_MAX);
    return { textZh, textEn: en ? truncate(prefixEn + spoken(en, '.'), TEXT_MAX) : textZh, language: zh.language };
  }
  const other = en ?? infos[0]!;
  const who = other.senderName ?? a.sender;
  const cat = CATEGORY_ZH[other.categories[0]!] ?? '';
  const sev = SEVERITY_ZH[other.severity];
  const lead = `${prefixZh}${who}发布${sev ? `${sev}` : ''}${cat}预警,原文为外文:`;
  const text = spoken(other, '.');
  return { textZh: truncate(lead + text, TEXT_MAX), textEn: truncate(prefixEn + text, TEXT_MAX), language: other.language };
}

function forget(st: CapInboxState, now: number): void {
  for (const [k, until] of st.seen) if (until <= now) st.seen.delete(k);
  for (const [k, e] of st.chains) if (e.until <= now) st.chains.delete(k);
  // Oldest first (insertion order) beyond the bound: a flood of messages cannot grow memory.
  for (const m of [st.seen, st.chains] as Map<string, unknown>[]) {
    for (const k of m.keys()) {
      if (m.size <= MAX_REMEMBERED) break;
      m.delete(k);
    }
  }
}

function keepUntil(a: CapAlert, now: number): number {
  const ends = a.infos.map((i) => i.expires).filter((e): e is number => e !== null);
  return ends.length ? Math.max(now, ...ends) + KEEP_AFTER_EXPIRY_MS : now + KEEP_NO_EXPIRY_MS;
}

/** A chain's key: that of its first message. */
function keyOf(m: { sender: string; identifier: string }): string {
  return `cap:${m.sender}:${m.identifier}`;
}

/** The key of the first referenced message the box acted on. */
function chainOf(st: CapInboxState, a: CapAlert): string | null {
  for (const r of a.references) {
    const e = st.chains.get(`${r.sender},${r.identifier}`);
    if (e) return e.key;
  }
  return null;
}

function dropChain(st: CapInboxState, key: string): void {
  for (const [k, e] of st.chains) if (e.key === key) st.chains.delete(k);
}

export interface CapNow {
  /** Wall clock, epoch ms. */
  now: number;
  clockTrusted: boolean;
}

export function onCap(st: CapInboxState, payload: Buffer | string, clock: CapNow, o: CapInboxOptions): CapDecision {
  const { now } = clock;
  forget(st, now);
  const read = readCap(payload, clock);
  if (!read.ok) return { state: st, commands: [], log: { outcome: 'rejected', reason: read.reason, detail: read.detail } };
  const a = read.alert;
  const base = { identifier: a.identifier, sender: a.sender, sent: a.sentText, status: a.status, msgType: a.msgType };
  const ignored = (reason: CapIgnoreReason, detail: string): CapDecision => ({ state: st, commands: [], log: { ...base, outcome: 'ignored', reason, detail } });
  const by = `cap:${a.sender}`;

  const id = `${a.sender},${a.identifier}`;
  if (st.seen.has(id)) return ignored('duplicate', `already read ${a.sender} ${a.identifier} (CAP §3.2.1: identifier is unique per sender)`);
  st.seen.set(id, keepUntil(a, now));

  if (a.status === 'Test') return ignored('test_message', 'status Test: logged, never sounded');
  if (a.status === 'Draft') return ignored('draft_message', 'status Draft: logged, never sounded');
  if (a.status === 'System') return ignored('system_message', 'status System: for the warning network, not the public');
  if (a.msgType === 'Ack' || a.msgType === 'Error') return ignored('not_a_warning', `msgType ${a.msgType} is about another message, not a warning`);

  const known = chainOf(st, a);
  const matches = new Map<CapInfo, AreaMatch & { covered: true }>();
  for (const i of a.infos) {
    for (const area of i.areas) {
      const m = areaCovers(area, st.place);
      if (m.covered) {
        matches.set(i, m);
        break;
      }
    }
  }
  const outOfArea = (): CapDecision => {
    const codes = st.place.codes.join(' ') || 'none';
    return ignored('out_of_area', `no area covers this site (codes ${codes}, point ${st.place.point ? `${st.place.point.lat},${st.place.point.lon}` : 'none'})`);
  };

  if (a.msgType === 'Cancel') {
    if (known) {
      dropChain(st, known);
      return { state: st, commands: [{ type: 'broadcast_cancel', by, key: known }], log: { ...base, outcome: 'cancelled', reason: 'cancel', detail: `stops ${known}`, key: known } };
    }
    if (!a.references.length) return ignored('unknown_reference', 'a Cancel without references');
    // A chain this box does not remember (it restarted, or forgot it) may still be playing or
    // queued: the planner keeps its items across a restart. Its key follows from the
    // references (the first message's identifier), so the Cancel still reaches it; only a
    // Cancel for this site (or with no area at all) is acted on, or every box would record
    // every Cancel of the county.
    const hasArea = a.infos.some((i) => i.areas.length > 0);
    if (hasArea && !matches.size) return outOfArea();
    const keys = [...new Set(a.references.map(keyOf))];
    return {
      state: st,
      commands: keys.map((key) => ({ type: 'broadcast_cancel' as const, by, key })),
      log: { ...base, outcome: 'cancelled', reason: 'cancel', detail: `chain not in memory: stops ${keys.join(' ')} wherever they still play`, key: keys[0]! },
    };
  }

  if (!a.infos.length) return ignored('no_info', 'an Alert or Update without info says nothing to broadcast');
  if (!matches.size) {
    if (known) {
      dropChain(st, known);
      return { state: st, commands: [{ type: 'broadcast_cancel', by, key: known }], log: { ...base, outcome: 'cancelled', reason: 'update_out_of_area', detail: `the update no longer covers this site; stops ${known}`, key: known } };
    }
    return outOfArea();
  }
  const inArea = [...matches.keys()];
  const live = clock.clockTrusted ? inArea.filter((i) => i.expires === null || i.expires > now) : inArea;
  if (!live.length) return ignored('expired', `expired at ${new Date(Math.max(...inArea.map((i) => i.expires!))).toISOString()}`);

  const drill = a.status === 'Exercise';
  // The most severe info in the area decides: language versions normally agree, and if they
  // do not, the box errs towards the louder one.
  const grades = live.map((i) => priorityOf(i.severity, i.urgency, i.certainty));
  const grade = { priority: grades.reduce<BroadcastPriority>((p, g) => (RANK[g.priority] > RANK[p] ? g.priority : p), 'routine'), siren: grades.some((g) => g.siren) };
  const priority: BroadcastPriority = drill ? 'drill' : grade.priority;
  const siren = !drill && a.status === 'Actual' && grade.siren && o.sirenPattern !== null;
  const text = words(live, a, drill);
  // An Update of a chain the box does not remember takes the key its first message would have
  // had, so it replaces that message's broadcast if the planner still holds it (after a restart).
  const key = known ?? (a.msgType === 'Update' && a.references.length ? keyOf(a.references[0]!) : keyOf(a));
  const until = keepUntil(a, now);
  st.chains.set(id, { key, until });
  const command: Command = {
    type: 'broadcast',
    source: 'township',
    by,
    textZh: text.textZh,
    textEn: text.textEn,
    repeat: priority === 'routine' || drill ? 1 : o.repeat,
    key,
    priority,
    ...(drill ? { drill: true } : {}),
    ...(siren ? { pattern: o.sirenPattern! } : {}),
  };
  const how = [...matches.values()][0]!;
  return {
    state: st,
    commands: [command],
    log: { ...base, outcome: known ? 'replaced' : 'broadcast', reason: 'in_area', detail: `${how.by}: ${how.detail}; spoken in ${text.language}`, key, priority, siren },
  };
}
