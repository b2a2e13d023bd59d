/**
 * GET /api/state and the live stream's `state` event: the site at a glance, built from what
 * the box already has. The alerts, faults, drill and store come from the same builder as a
 * `report` (shell/status-report.ts statusNow, not logged); the panel adds what it watches
 * itself (each sensor's last reading, each actuator's last report) and reads the planner's
 * channels for what the sirens and speakers are doing now.
 *
 * `site` carries the shelters, routes and named broadcasts (each filled for the whole site, as
 * a preview of what its button says), and `broadcasts` what became of each broadcast now
 * playing or queued, per zone (broadcast-progress.ts).
 *
 * Shape (snake_case, times ISO 8601 with the site's offset) in README "Panel API".
 */
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SiteConfig } from '../config/types.ts';
import type { Level } from '../engine/types.ts';
import { fromTemplate } from '../planner/template.ts';
import { BroadcastProgress } from './broadcast-progress.ts';
import { liveParts } from './broadcast-watch.ts';
import { maxLevel } from '../engine/types.ts';
import type { EngineRunner } from '../shell/engine-runner.ts';
import type { ActuatorReport, BoxContext, UplinkState } from './state-types.ts';
import { storageProblems } from '../shell/publisher.ts';
import { actuatorFaultWords } from '../engine/actuator-fault-words.ts';
import { problemWords, storageReasonWords } from '../shell/problem-words.ts';
import type { StoreHealth } from '../store/types.ts';
import { wallTime } from '../wire.ts';

export interface StateSources {
  ctx: BoxContext;
  engine: EngineRunner;
  storeHealth(): StoreHealth;
  uplink(): UplinkState | null;
  /** The box's status problems as codes (box.ts); without it, the store's own. */
  problems?(): string[];
}

interface AlertView {
  alert: string;
  kind: string;
  level: Level;
  zone: string;
  sensors: string[];
  text_zh: string;
  text_en: string;
  /** Wire time the alert was raised (status-report.ts). */
  raised_at?: string | null;
  acknowledged_by: string | null;
  response_clock: Record<string, string | null> | null;
}

/** What the panel remembers from the bus between requests: bounded by the config's sensors and actuators. */
export class Watched {
  readonly readings = new Map<string, { value: number | null; quality: string; at: number }>();
  readonly reports = new Map<string, ActuatorReport & { at: number }>();
  /** Each actuator's last fault, kept when later reports come: a speaker that failed an alarm broadcast stays visible. */
  readonly faults = new Map<string, ActuatorReport & { at: number }>();
  /** Each broadcast's progress per zone (fed by broadcast-watch.ts). */
  readonly broadcasts = new BroadcastProgress();
}

const sites = new WeakMap<SiteConfig, Record<string, unknown>>();

/** The site as the page shows it: names, shelters, routes, and each named broadcast filled for the whole site (made once per config). */
export function siteView(config: SiteConfig): Record<string, unknown> {
  const made = sites.get(config);
  if (made) return made;
  const { site } = config;
  const view = {
    id: site.id,
    name: site.name,
    name_en: site.nameEn,
    shelter: site.shelter,
    route: site.route,
    shelters: site.shelters.map((s) => ({ id: s.id, zh: s.zh, en: s.en, zones: s.zones })),
    routes: site.routes.map((r) => ({ id: r.id, zh: r.zh, en: r.en, shelter: r.shelter })),
    templates: Object.entries(config.broadcasts.templates).map(([id, t]) => {
      const filled = fromTemplate(config, id, 'site')!;
      return { id, name_zh: t.nameZh, name_en: t.nameEn, text_zh: filled.textZh, text_en: filled.textEn, audio: t.audio };
    }),
  };
  sites.set(config, view);
  return view;
}

export async function diskState(dbPath: string): Promise<{ free_bytes: number; total_bytes: number } | null> {
  try {
    const s = await statfs(dirname(dbPath));
    return { free_bytes: s.bavail * s.bsize, total_bytes: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

export function panelState(src: StateSources, watched: Watched, by: string, disk: { free_bytes: number; total_bytes: number } | null): Record<string, unknown> {
  const { config, clock } = src.ctx;
  const off = config.site.utcOffset;
  const wallNow = clock.wall();
  const report = src.engine.statusNow(by);
  const alerts = ((report?.active_alerts ?? []) as AlertView[]).map((a) => withAge(a, wallNow));
  const faults = ((report?.faults ?? []) as AlertView[]).map((a) => withAge(a, wallNow));
  const own = new Map<string, Level | null>();
  for (const a of alerts) own.set(a.zone, maxLevel(own.get(a.zone) ?? null, a.level));
  const siteLevel = own.get('site') ?? null;
  const zones = config.zones.map((z) => ({ id: z.id, name: z.name, name_en: z.nameEn, own_level: own.get(z.id) ?? null, level: maxLevel(own.get(z.id) ?? null, siteLevel) }));
  const sensors = config.sensors.map((s) => {
    const r = watched.readings.get(s.id);
    const fault = faults.find((f) => f.sensors.includes(s.id));
    const level = alerts.filter((a) => a.sensors.includes(s.id)).reduce<Level | null>((m, a) => maxLevel(m, a.level), null);
    return {
      id: s.id,
      kind: s.kind,
      name: s.name,
      zone: s.zone,
      value: r?.value ?? null,
      quality: r?.quality ?? null,
      at: r ? wallTime(r.at, off) : null,
      level,
      fault: fault ? { alert: fault.alert, text_zh: fault.text_zh, text_en: fault.text_en } : null,
    };
  });
  const channels = src.engine.read((core, now, wall) => ({
    speech: liveParts(core.planner, now, wallNow),
    indicators: { ...core.planner.indicators },
    busy: [...core.planner.channels.values()]
      .filter((c) => c.actuator !== null && c.current !== null)
      .map((c) => ({ actuator: c.actuator!, kind: c.kind, activity: c.current!.activity, zone: c.current!.zone, priority: c.current!.priority, source: c.current!.source, by: c.current!.by, alert: c.current!.alert, drill: c.current!.drill, queued: c.queue.length })),
    drillSince: core.planner.drill ? wall(core.planner.drill.since) : null,
  }));
  const actuators = config.actuators.map((a) => {
    const rep = watched.reports.get(a.id);
    return {
      id: a.id,
      kind: a.kind,
      name: a.name,
      zones: a.zones,
      doing: (channels?.busy ?? []).filter((b) => b.actuator === a.id).map(({ actuator: _a, ...b }) => b),
      last_report: rep ? { report: rep.report, activity: rep.activity ?? null, at: wallTime(rep.at, off), detail: rep.detail ?? null } : null,
      last_fault: lastFault(watched, a.id, off),
    };
  });
  const h = src.storeHealth();
  const problems = src.problems?.() ?? storageProblems(h);
  return {
    site: siteView(config),
    at: wallTime(wallNow, off),
    level: alerts.reduce<Level | null>((m, a) => maxLevel(m, a.level), null),
    zones,
    alerts,
    faults,
    sensors,
    actuators,
    indicators: channels?.indicators ?? null,
    broadcasts: watched.broadcasts.view(channels?.speech ?? [], wallNow, (ms) => wallTime(ms, off)),
    drill: report?.drill ?? null,
    thresholds: report?.thresholds ?? [],
    problems,
    problem_texts: problems.map(problemWords),
    storage: { degraded: h.degraded, reason: h.reason, reason_zh: h.reason ? storageReasonWords(h.reason).zh : null, reason_en: h.reason ? storageReasonWords(h.reason).en : null, pending_events: h.pendingEvents, dropped_readings: h.droppedReadings, dropped_events: h.droppedEvents, replaced_log: h.replacedLog ?? null },
    disk,
    uplink: src.uplink(),
    engine_running: report !== null,
  };
}

function lastFault(watched: Watched, actuator: string, off: string): Record<string, unknown> | null {
  const f = watched.faults.get(actuator);
  if (!f) return null;
  const reason = f.detail?.reason == null ? null : String(f.detail.reason);
  const words = reason === null ? null : actuatorFaultWords(reason);
  return { reason, activity: f.activity ?? null, at: wallTime(f.at, off), detail: f.detail ?? null, text_zh: words?.zh ?? null, text_en: words?.en ?? null };
}

function withAge(a: AlertView, wallNow: number): AlertView & { age_s: number | null } {
  const at = a.response_clock?.raised_at ?? a.raised_at;
  const raised = at ? Date.parse(at) : NaN;
  return { ...a, age_s: Number.isFinite(raised) ? Math.max(0, Math.round((wallNow - raised) / 1000)) : null };
}
