/**
 * What the page reads from the panel API (README "Panel API"), as the page uses it. Fields
 * marked optional are newer than some boxes (or still being added): the page hides the part
 * that needs a missing one rather than failing.
 */
export type Level = 'info' | 'blue' | 'yellow' | 'orange' | 'red';

export interface Place {
  zh: string;
  en: string;
}

export interface Shelter {
  id: string;
  zh: string;
  en: string;
  /** null: it takes everyone (config/places.ts). */
  zones: string[] | null;
}

export interface Route {
  id: string;
  zh: string;
  en: string;
  shelter: string;
}

export interface Template {
  id: string;
  name_zh: string;
  name_en: string;
  text_zh: string;
  text_en: string;
}

export interface Site {
  id: string;
  name: string;
  name_en: string;
  shelter: Place;
  route: Place;
  shelters?: Shelter[];
  routes?: Route[];
  templates?: Template[];
}

export interface Zone {
  id: string;
  name: string;
  name_en: string;
  own_level: Level | null;
  level: Level | null;
}

export interface ResponseClock {
  raised_at: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  broadcast_at: string | null;
  escalated_at: string | null;
  township_ack_at: string | null;
}

export interface Alert {
  alert: string;
  kind: 'rain' | 'water_level' | 'smoke' | 'fault';
  level: Level;
  rule: string;
  zone: string;
  sensors: string[];
  text_zh: string;
  text_en: string;
  raised_at?: string | null;
  acknowledged_by: string | null;
  age_s: number | null;
  response_clock: ResponseClock | null;
}

export interface Sensor {
  id: string;
  kind: 'rain' | 'water_level' | 'smoke';
  name: string;
  zone: string;
  value: number | null;
  quality: string | null;
  at: string | null;
  level: Level | null;
  fault: { alert: string; text_zh: string; text_en: string } | null;
}

export interface Doing {
  kind: 'siren' | 'speaker';
  activity: string;
  zone: string;
  priority: string;
  source: string;
  by: string;
  alert: string | null;
  drill: boolean;
  queued: number;
}

export interface Actuator {
  id: string;
  kind: 'siren' | 'speaker';
  name: string;
  zones: string[];
  doing: Doing[];
  last_report: { report: string; activity: string | null; at: string } | null;
  /** The last fault it reported (kept after later reports); its words from the box. */
  last_fault?: { reason: string | null; at: string; text_zh: string | null; text_en: string | null } | null;
}

export type ZoneProgress = 'queued' | 'playing' | 'done' | 'failed' | 'stopped';

export interface Broadcast {
  activity: string;
  template: string | null;
  text_zh: string;
  zones: string[];
  repeat: number;
  /** null while every part of it waits in a queue. */
  started_at: string | null;
  by: string;
  drill: boolean;
  zones_state: Record<string, ZoneProgress>;
}

export interface Uplink {
  online: boolean;
  offline_since: string | null;
  events_waiting: number;
  oldest_waiting_at: string | null;
  last_ack_seq: number;
}

export interface State {
  site: Site;
  at: string;
  level: Level | null;
  zones: Zone[];
  alerts: Alert[];
  faults: Alert[];
  sensors: Sensor[];
  actuators: Actuator[];
  indicators: Record<string, string> | null;
  drill: { by: string; since: string } | null;
  problems: string[];
  /** The same problems in words (gateway/shell/problem-words.ts). */
  problem_texts?: { code: string; text_zh: string; text_en: string }[];
  storage: { degraded: boolean; reason: string | null; reason_zh?: string | null; reason_en?: string | null; pending_events: number; dropped_readings: number; dropped_events: number };
  disk: { free_bytes: number; total_bytes: number } | null;
  uplink: Uplink | null;
  engine_running: boolean;
  broadcasts?: Broadcast[];
}

export interface SessionInfo {
  username: string;
  role: 'officer' | 'observer';
  csrf_token: string;
}

export interface Pattern {
  id: string;
  name_zh: string;
  name_en: string;
  steps: number[];
  total_s: number;
}

/** GET /api/page-config: what the page needs of the site config that the state does not carry. */
export interface PageConfig {
  patterns: Pattern[];
  broadcast_repeat: number;
  broadcast_repeat_max: number;
}

/** An event in the log's wire form (uplink/event-wire.ts): the envelope and the payload's keys. */
export interface LoggedEvent {
  seq: number;
  at: string;
  type: string;
  [key: string]: unknown;
}

export interface History {
  sensor: string;
  kind: string;
  unit: string;
  name: string;
  from: string;
  to: string;
  stages: { name: string; value: number; level: Level }[] | null;
  minutes: { at: string; n: number; errors: number; min: number | null; max: number | null; mean: number | null; last: number | null }[];
  hourly?: { at: string; mm: number }[];
  rolling?: { at: string; sum_1h_mm: number; sum_3h_mm: number; sum_6h_mm: number; sum_12h_mm: number; sum_24h_mm: number }[];
  thresholds?: { level: Level; window_h: number; mm: number }[];
}

export interface Drill {
  id: number | string;
  since: string;
  until: string | null;
  by: string;
  kind?: string;
  /** The review page's path (`/review/<id>`). */
  review?: string;
}
