/**
 * Drills from the event log (GET /api/drills) and one drill's review (复盘, GET /review/<id>):
 * pure functions of logged events, so a review says what the log says and nothing else.
 *
 * A drill is the officer's `drill` command that the box carried out (a `command` event with
 * `result.ok`); it ends at the next `drill_end` carried out, or at the next drill (a drill
 * started while one runs replaces it: planner/on-command.ts). Its id is the seq of its command
 * event: unique for the life of the log, and it never changes.
 *
 * The review holds, in time order, everything logged from the drill's command to its end (the
 * end's own effects too): the drill's clock (ordered → first siren → first broadcast → every
 * speaker done → ended), and for each alert with a transition in that time its response clock
 * (raised → acknowledged → broadcast started → escalated → township answer → cleared), each with
 * who, the way escalation.ts keeps it for a live alert (the first of each).
 */
import type { StoredEvent } from '../store/types.ts';

type P = Record<string, any>;

export interface DrillRun {
  /** The seq of the drill's command event. */
  id: number;
  since: number;
  until: number | null;
  by: string;
  /** The seq of the command that ended it (a `drill_end`, or the next drill), null while it runs. */
  endSeq: number | null;
  endedBy: string | null;
  kind: string;
  level: string;
  zones: string[] | null;
}

const carriedOut = (e: StoredEvent): P | null => {
  if (e.type !== 'command') return null;
  const p = e.payload as P;
  return p?.result?.ok === true ? p : null;
};

/** Adds the drills of `commands` (command events in seq order, after what `runs` already holds) to `runs`. */
export function addDrills(runs: DrillRun[], commands: readonly StoredEvent[]): void {
  for (const e of commands) {
    const p = carriedOut(e);
    const type = p?.command?.type;
    if (type !== 'drill' && type !== 'drill_end') continue;
    const open = runs.at(-1);
    if (open && open.until === null) {
      open.until = e.atWall;
      open.endSeq = e.seq;
      open.endedBy = p!.by ?? null;
    }
    if (type === 'drill') {
      const c = p!.command as P;
      runs.push({ id: e.seq, since: e.atWall, until: null, by: p!.by ?? c.by, endSeq: null, endedBy: null, kind: c.kind ?? 'water_level', level: c.level ?? 'red', zones: c.zones ?? null });
    }
  }
}

/** The drill's clock: each step's wall ms and who, or null while it has not happened. */
export interface DrillClock {
  ordered: { at: number; by: string };
  firstSiren: { at: number; actuator: string | null } | null;
  firstBroadcast: { at: number; actuator: string | null } | null;
  /** The last speaker's `done` for the drill's broadcast, and how many reported. */
  spoken: { at: number; speakers: number } | null;
  ended: { at: number; by: string | null } | null;
}

export interface AlarmClock {
  alert: string;
  kind: string;
  /** The highest level it reached in the drill's time. */
  level: string;
  zone: string;
  textZh: string;
  textEn: string;
  raised: number | null;
  acknowledged: { at: number; by: string | null } | null;
  broadcast: number | null;
  escalated: { at: number; by: string } | null;
  townshipAck: { at: number; by: string | null } | null;
  cleared: number | null;
}

export interface ReviewEntry {
  seq: number;
  at: number;
  type: string;
  who: string;
  zh: string;
  en: string;
  drill: boolean;
}

export interface DrillReview {
  drill: DrillRun;
  clock: DrillClock;
  alarms: AlarmClock[];
  entries: ReviewEntry[];
  /** Observations (counter wraps, late readings…) are counted, not listed. */
  observations: number;
  /** More events than MAX_ENTRIES: the first are shown, and this says so. */
  truncated: boolean;
  firstSeq: number;
  lastSeq: number;
}

export const MAX_ENTRIES = 5000;
const LEVELS = ['info', 'blue', 'yellow', 'orange', 'red'];
const LEVEL_ZH: Record<string, string> = { info: '提示', blue: '蓝色', yellow: '黄色', orange: '橙色', red: '红色' };
const KIND_ZH: Record<string, string> = { rain: '暴雨', water_level: '洪水', smoke: '火警', fault: '设备故障' };
const KIND_EN: Record<string, string> = { rain: 'rainstorm', water_level: 'flood', smoke: 'fire', fault: 'equipment fault' };
const TRANSITION_ZH: Record<string, string> = { raised: '发布', escalated: '升级', deescalated: '降级', cleared: '解除', acknowledged: '确认' };
const REASON_ZH: Record<string, string> = { preempted: '被更高优先级打断', silenced: '消音', stopped: '停止', cleared: '警报解除', drill_end: '演练结束', replaced: '被替换', cancelled: '取消' };
const SESSION_ZH: Record<string, string> = { sign_in: '登录面板', sign_out: '退出面板', expired: '会话超时', locked_out: '登录被锁定', replaced: '会话被替换' };

/** The events after the end command that belong to its commit: the stops and the light it caused. */
export function endsWithDrill(e: StoredEvent): boolean {
  if (e.type !== 'effect') return false;
  const p = e.payload as P;
  return ((p.type === 'siren_off' || p.type === 'broadcast_stop') && p.reason === 'drill_end') || (p.type === 'indicator' && p.indicator === 'drill');
}

function who(e: StoredEvent, p: P): string {
  if (e.type === 'command') return p.by ?? '';
  if (e.type === 'session') return p.username ?? '';
  if (e.type === 'transition' || e.type === 'fault') return p.transition === 'acknowledged' ? (p.acknowledgedBy ?? '') : 'engine';
  return p.by ?? p.actuator ?? '';
}

/** The site's names for template and siren pattern ids (config `broadcasts.templates`, `actions.patterns`). */
export interface Names {
  templates?: Readonly<Record<string, { nameZh: string; nameEn: string }>>;
  patterns?: Readonly<Record<string, { nameZh: string; nameEn: string }>>;
}

const patternName = (names: Names, id: string): { zh: string; en: string } => {
  const p = names.patterns?.[id];
  return p ? { zh: `${p.nameZh}(${id})`, en: `${p.nameEn} (${id})` } : { zh: id, en: id };
};

function commandWords(c: P, names: Names): { zh: string; en: string } {
  switch (c.type) {
    case 'drill':
      return { zh: `开始演练:${KIND_ZH[c.kind ?? 'water_level'] ?? c.kind}${LEVEL_ZH[c.level ?? 'red'] ?? ''}预警`, en: `start drill: ${c.level ?? 'red'} ${KIND_EN[c.kind ?? 'water_level'] ?? c.kind} warning` };
    case 'drill_end':
      return { zh: '结束演练', en: 'end the drill' };
    case 'broadcast': {
      const t = c.template ? names.templates?.[c.template] : undefined;
      const name = c.template ? { zh: `「${t?.nameZh ?? c.template}」`, en: `"${t?.nameEn ?? c.template}"` } : { zh: '', en: '' };
      const en = c.textEn ?? c.textZh;
      return { zh: `广播${name.zh}${c.textZh ? `:${c.textZh}` : ''}`, en: `broadcast${name.en ? ` ${name.en}` : ''}${en ? `: ${en}` : ''}` };
    }
    case 'siren': {
      const n = patternName(names, c.pattern);
      return { zh: `鸣响警报器:${n.zh}`, en: `sound the sirens: ${n.en}` };
    }
    case 'silence':
      return { zh: '消音', en: 'silence the sirens' };
    case 'stop':
      return { zh: '停止鸣响和广播', en: 'stop sirens and broadcasts' };
    case 'test':
      return { zh: '例行测试', en: 'routine test' };
    case 'ack':
      return { zh: `确认警报 ${c.alert}`, en: `acknowledge ${c.alert}` };
    case 'escalate':
      return { zh: `吹哨上报 ${c.alert}:${c.text}`, en: `escalate ${c.alert}: ${c.text}` };
    case 'escalation_ack':
      return { zh: `回复上报 ${c.escalation}`, en: `answer escalation ${c.escalation}` };
    case 'broadcast_done':
      return { zh: `${c.actuator} 报告播放完毕(${c.activity})`, en: `${c.actuator} reports ${c.activity} played` };
    default:
      return { zh: `命令 ${c.type}`, en: `command ${c.type}` };
  }
}

function effectWords(p: P, names: Names): { zh: string; en: string } {
  const on = p.actuator ?? `${p.zone}(无设备)`;
  const onEn = p.actuator ?? `${p.zone} (no actuator)`;
  switch (p.type) {
    case 'siren': {
      const n = patternName(names, p.pattern);
      return { zh: `${on} 鸣响 ${n.zh}${p.clamped ? '(已按最长鸣响时间截短)' : ''}`, en: `${onEn} sounds ${n.en}${p.clamped ? ' (cut to the maximum on-time)' : ''}` };
    }
    case 'siren_off':
      return { zh: `${on} 停止鸣响(${REASON_ZH[p.reason] ?? p.reason})`, en: `${onEn} siren off (${p.reason})` };
    case 'broadcast':
      return { zh: `${on} 广播 ×${p.repeat}:${p.textZh}`, en: `${onEn} broadcasts ×${p.repeat}: ${p.textEn}` };
    case 'broadcast_stop':
      return { zh: `${on} 停止广播(${REASON_ZH[p.reason] ?? p.reason})`, en: `${onEn} broadcast stopped (${p.reason})` };
    case 'indicator':
      return { zh: `指示灯 ${p.indicator}:${p.state}`, en: `indicator ${p.indicator}: ${p.state}` };
    default:
      return { zh: `动作 ${p.type}`, en: `effect ${p.type}` };
  }
}

function words(e: StoredEvent, p: P, names: Names): { zh: string; en: string } {
  switch (e.type) {
    case 'command': {
      const w = commandWords(p.command ?? {}, names);
      if (p.result && p.result.ok === false) return { zh: `${w.zh}(未执行:${p.result.error})`, en: `${w.en} (refused: ${p.result.error})` };
      return w;
    }
    case 'effect':
      return effectWords(p, names);
    case 'transition':
    case 'fault':
      return { zh: `警报${TRANSITION_ZH[p.transition] ?? p.transition}:${p.textZh ?? ''}`, en: `alert ${p.transition}: ${p.textEn ?? ''}` };
    case 'escalation':
      return p.phase === 'acknowledged'
        ? { zh: `乡镇已回复上报 ${p.escalation}${p.acknowledgedBy ? `(${p.acknowledgedBy})` : ''}${p.ackText ? `:${p.ackText}` : ''}`, en: `township answered ${p.escalation}${p.acknowledgedBy ? ` (${p.acknowledgedBy})` : ''}${p.ackText ? `: ${p.ackText}` : ''}` }
        : { zh: `吹哨上报乡镇 ${p.escalation}:${p.text}`, en: `escalated to the township ${p.escalation}: ${p.text}` };
    case 'session':
      return { zh: `${SESSION_ZH[p.action] ?? p.action}(${p.role ?? ''} ${p.address ?? ''})`, en: `${String(p.action).replace('_', ' ')} (${p.role ?? ''} ${p.address ?? ''})` };
    case 'note':
      return { zh: `记录 ${p.note}`, en: `note ${p.note}` };
    case 'threshold':
      return { zh: `阈值 ${p.sensor} ${p.threshold} ${p.change}:${p.value}`, en: `threshold ${p.sensor} ${p.threshold} ${p.change}: ${p.value}` };
    default:
      return { zh: e.type, en: e.type };
  }
}

/**
 * The review of `drill` from the events logged in its time, in seq order (from its command to
 * its end command and the effects of that commit). `names`: the site's, for templates and patterns.
 */
export function drillReview(drill: DrillRun, events: readonly StoredEvent[], names: Names = {}): DrillReview {
  const clock: DrillClock = { ordered: { at: drill.since, by: drill.by }, firstSiren: null, firstBroadcast: null, spoken: null, ended: drill.until === null ? null : { at: drill.until, by: drill.endedBy } };
  const alarms = new Map<string, AlarmClock>();
  const entries: ReviewEntry[] = [];
  let observations = 0;
  let drillActivity: string | null = null;
  const speakersDone = new Set<string>();
  for (const e of events) {
    const p = (e.payload ?? {}) as P;
    if (e.type === 'observation') {
      observations++;
      continue;
    }
    if (e.type === 'effect' && p.drill === true && (p.type === 'siren' || p.type === 'broadcast')) {
      // The drill's own activity is the first drill effect after its command (they share its commit).
      drillActivity ??= p.activity;
      if (p.activity === drillActivity) {
        if (p.type === 'siren') clock.firstSiren ??= { at: e.atWall, actuator: p.actuator ?? null };
        else clock.firstBroadcast ??= { at: e.atWall, actuator: p.actuator ?? null };
      }
    }
    const c = e.type === 'command' ? (p.command as P | undefined) : undefined;
    if (c?.type === 'broadcast_done' && drillActivity !== null && c.activity === drillActivity && p.result?.ok !== false) {
      speakersDone.add(c.actuator);
      clock.spoken = { at: e.atWall, speakers: speakersDone.size };
    }
    alarmStep(alarms, e, p);
    if (entries.length < MAX_ENTRIES) {
      const w = words(e, p, names);
      entries.push({ seq: e.seq, at: e.atWall, type: e.type, who: who(e, p), zh: w.zh, en: w.en, drill: p.drill === true || (c?.type === 'drill' || c?.type === 'drill_end') });
    }
  }
  const listed = events.filter((e) => e.type !== 'observation').length;
  return { drill, clock, alarms: [...alarms.values()], entries, observations, truncated: listed > entries.length, firstSeq: events[0]?.seq ?? drill.id, lastSeq: events.at(-1)?.seq ?? drill.id };
}

/** One event's part in the response clock of the alert it names (the first of each step, as escalation.ts). */
function alarmStep(alarms: Map<string, AlarmClock>, e: StoredEvent, p: P): void {
  if (e.type === 'transition') {
    const m = alarms.get(p.alert) ?? { alert: p.alert, kind: p.kind, level: p.level, zone: p.zone, textZh: p.textZh ?? '', textEn: p.textEn ?? '', raised: null, acknowledged: null, broadcast: null, escalated: null, townshipAck: null, cleared: null };
    alarms.set(p.alert, m);
    if (LEVELS.indexOf(p.level) > LEVELS.indexOf(m.level)) m.level = p.level;
    if (p.transition === 'raised') {
      m.raised ??= e.atWall;
      m.textZh = p.textZh ?? m.textZh;
      m.textEn = p.textEn ?? m.textEn;
    } else if (p.transition === 'acknowledged') m.acknowledged ??= { at: e.atWall, by: p.acknowledgedBy ?? null };
    else if (p.transition === 'cleared') m.cleared ??= e.atWall;
    return;
  }
  const m = typeof p.alert === 'string' ? alarms.get(p.alert) : undefined;
  if (!m) return;
  if (e.type === 'effect' && p.type === 'broadcast') m.broadcast ??= e.atWall;
  if (e.type === 'escalation' && p.phase === 'sent') m.escalated ??= { at: e.atWall, by: p.by };
  if (e.type === 'escalation' && p.phase === 'acknowledged') m.townshipAck ??= { at: e.atWall, by: p.acknowledgedBy ?? p.ackBy ?? null };
}
