/**
 * From a schema-valid config file (snake_case) to the effective `SiteConfig`: defaults filled,
 * rules ordered, cross-field rules checked. Problems are returned as `{path, message}`, all at once.
 */
import type { Level } from '../engine/types.ts';
import { levelRank } from '../engine/types.ts';
import { ACTION_DEFAULTS, BACKUP_DEFAULTS, BUILTIN_PATTERNS, CMA_RAIN_RULES, HEALTH_DEFAULTS, KIND_DEFAULTS, MQTT_DEFAULTS, POLLED_STALE_INTERVALS, SITE_DEFAULTS, STAGE_LEVELS, PANEL_DEFAULTS, STORE_DEFAULTS, UPLINK_DEFAULTS, PANEL_HW_DEFAULTS, rainLabel } from './defaults.ts';
import { selfTests } from './self-tests.ts';
import { ipSpeakers } from './ip-speakers.ts';
import type { BackupConfig, BusConfig, PanelHwConfig, PanelHwPins, UplinkConfig, HealthConfig, ModbusSource, RainRule, SensorConfig, SiteConfig, SirenPattern, Threshold, ZoneConfig } from './types.ts';
import { STAGE_NAMES } from './types.ts';
import { ampClashes, siteAudio, speakerAudio } from './audio.ts';
import { PANEL_HW_PINS } from './schema.ts';
import { broadcastsConfig } from './broadcast-templates.ts';
import { places } from './places.ts';

export interface ConfigProblem {
  /** Path in the file, e.g. `sensors[1].stages.warning`. */
  path: string;
  message: string;
}

/** The one zone every site has: the whole site. */
export const SITE_ZONE = 'site';

type Raw = Record<string, any>;

function health(kind: keyof typeof HEALTH_DEFAULTS, d: Raw, s: Raw, polled: ModbusSource | null): HealthConfig {
  const keys = Object.keys(HEALTH_DEFAULTS[kind]);
  // A polled sensor: three missed polls by default, unless the site says otherwise; its own poll_s
  // is more specific than a site-wide interval_s, and its own health keys more specific still.
  const polledDefault = polled ? { stale_intervals: POLLED_STALE_INTERVALS } : {};
  const cadence = polled ? { interval_s: polled.pollS } : {};
  const v = { ...HEALTH_DEFAULTS[kind], ...polledDefault, ...pick(d, keys), ...cadence, ...pick(s, keys) };
  return {
    intervalS: v.interval_s,
    staleIntervals: v.stale_intervals,
    min: v.min,
    max: v.max,
    stuckS: v.stuck_s,
    errorWindow: v.error_window,
    errorRatio: v.error_ratio,
    errorStreak: v.error_streak,
  };
}

function pick(o: Raw | undefined, keys: string[]): Raw {
  const out: Raw = {};
  if (!o) return out;
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function rainRules(list: Raw[]): RainRule[] {
  return list.map((r) => ({ name: r.name ?? `rain_${r.window_h}h`, windowH: r.window_h, mm: r.mm, level: r.level, label: r.label ?? rainLabel(r.window_h, r.mm, r.level) }));
}

function byLevel<T extends { level: Level; value?: number }>(list: T[]): T[] {
  return [...list].sort((a, b) => levelRank(a.level) - levelRank(b.level));
}

function modbus(raw: Raw | undefined, busIds: string[], path: string, problems: ConfigProblem[]): ModbusSource | null {
  if (!raw) return null;
  if (!busIds.includes(raw.bus)) problems.push({ path: `${path}.modbus.bus`, message: `unknown bus '${raw.bus}' (buses: ${busIds.join(', ') || 'none'})` });
  return { bus: raw.bus, unit: raw.unit, profile: raw.profile, register: raw.register ?? null, pollS: raw.poll_s ?? 10, coil: raw.coil ?? 0 };
}

function sensor(raw: Raw, defaults: Raw, busIds: string[], path: string, problems: ConfigProblem[]): SensorConfig {
  const d: Raw = defaults[raw.kind] ?? {};
  const v: Raw = { ...(KIND_DEFAULTS as Raw)[raw.kind], ...d, ...raw };
  const zone: string = raw.zone ?? SITE_ZONE;
  const polled = modbus(raw.modbus, busIds, path, problems);
  const base = {
    id: raw.id as string,
    modbus: polled,
    name: (raw.name as string) ?? raw.id,
    nameEn: (raw.name_en as string) ?? raw.id, // ids are ASCII; a Chinese name would not help an English reader
    zone,
    // Rain and rivers concern the whole site: its zone reaches every siren and speaker.
    soundZones: raw.sound_zones ?? (raw.kind === 'smoke' ? [zone] : [SITE_ZONE]),
    health: health(raw.kind, d, raw, polled),
  };
  if (base.health.min >= base.health.max) problems.push({ path: `${path}.min`, message: `must be below max (${base.health.max})` });
  if (raw.kind === 'rain') {
    const rules = [...rainRules(v.rules ?? CMA_RAIN_RULES.map((r) => ({ name: r.name, window_h: r.windowH, mm: r.mm, level: r.level, label: r.label }))), ...rainRules(v.extra_rules ?? [])];
    if (rules.length === 0) problems.push({ path: `${path}.rules`, message: 'a rain gauge needs at least one rule' });
    return { ...base, kind: 'rain', scale: v.scale, counterModulus: v.counter_modulus, maxRateMmPerMin: v.max_rate_mm_per_min, rules, clearAfterS: v.clear_after_s };
  }
  if (raw.kind === 'water_level') {
    const levels: Raw = { ...STAGE_LEVELS, ...v.stage_levels };
    const stages: Threshold[] = [];
    for (const name of STAGE_NAMES) {
      const value = v.stages?.[name];
      if (value === undefined) continue;
      const prev = stages[stages.length - 1];
      if (prev && value <= prev.value) problems.push({ path: `${path}.stages.${name}`, message: `must be above ${prev.name} (${prev.value} m)` });
      if (prev && levelRank(levels[name]) < levelRank(prev.level)) problems.push({ path: `${path}.stage_levels.${name}`, message: `must not be below the level of ${prev.name}` });
      stages.push({ name, value, level: levels[name] });
    }
    if (stages.length === 0) problems.push({ path: `${path}.stages`, message: 'a water-level sensor needs at least one stage (attention, warning, guaranteed or historical_max)' });
    const rise = byLevel((v.rise as Raw[]).map((r) => ({ name: 'rise', value: r.m, level: r.level })));
    return {
      ...base,
      kind: 'water_level',
      stages,
      rise,
      riseWindowMin: v.rise_window_min,
      hysteresisM: v.hysteresis_m,
      riseHysteresisM: v.rise_hysteresis_m,
      raiseAfterS: v.raise_after_s,
      clearAfterS: v.clear_after_s,
    };
  }
  return { ...base, kind: 'smoke', mode: v.mode, alarmDbM: v.alarm_db_m, confirmS: v.confirm_s, clearAfterS: v.clear_after_s };
}

function zones(raw: Raw): ZoneConfig[] {
  const listed: ZoneConfig[] = (raw.zones ?? []).map((z: Raw) => ({ id: z.id, name: z.name ?? z.id, nameEn: z.name_en ?? z.id }));
  const out: ZoneConfig[] = [];
  if (!listed.some((z) => z.id === SITE_ZONE)) out.push({ id: SITE_ZONE, name: '全社区', nameEn: 'whole site' });
  out.push(...listed);
  if (raw.zones === undefined) {
    for (const s of raw.sensors as Raw[]) {
      if (s.zone && !out.some((z) => z.id === s.zone)) out.push({ id: s.zone, name: s.zone, nameEn: s.zone });
    }
  }
  return out;
}

function patterns(raw: Raw): Record<string, SirenPattern> {
  const out: Record<string, SirenPattern> = { ...BUILTIN_PATTERNS };
  for (const [name, p] of Object.entries((raw.patterns ?? {}) as Raw)) {
    out[name] = { steps: p.steps, nameZh: p.name_zh ?? name, nameEn: p.name_en ?? name };
  }
  return out;
}

function duplicates(items: Raw[], path: string, problems: ConfigProblem[]): void {
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    const first = seen.get(it.id);
    if (first !== undefined) problems.push({ path: `${path}[${i}].id`, message: `duplicate id '${it.id}' (first at ${path}[${first}])` });
    else seen.set(it.id, i);
  });
}

/** Cross-field rules of `uplink`: a client certificate needs its key (and the reverse), TLS files need mqtts. */
function uplinkConfig(u: Raw, site: string, problems: ConfigProblem[]): UplinkConfig {
  const tls = String(u.url).startsWith('mqtts://');
  if (u.cert_file && !u.key_file) problems.push({ path: 'uplink.key_file', message: 'cert_file needs its key_file' });
  if (u.key_file && !u.cert_file) problems.push({ path: 'uplink.cert_file', message: 'key_file needs its cert_file' });
  for (const k of ['ca_file', 'cert_file', 'key_file']) {
    if (u[k] && !tls) problems.push({ path: `uplink.${k}`, message: 'TLS files need an mqtts:// url' });
  }
  if (u.password_file && !u.username) problems.push({ path: 'uplink.username', message: 'a password_file needs a username' });
  const v: Raw = { ...UPLINK_DEFAULTS, ...u };
  return {
    url: u.url,
    username: u.username ?? null,
    passwordFile: u.password_file ?? null,
    clientId: u.client_id ?? `sb-${site}`,
    caFile: u.ca_file ?? null,
    certFile: u.cert_file ?? null,
    keyFile: u.key_file ?? null,
    protocolVersion: v.protocol_version,
    keepaliveS: v.keepalive_s,
    window: v.window,
  };
}

/** `backup`: an absolute folder and a time of day as HH:MM. */
function backupConfig(b: Raw, problems: ConfigProblem[]): BackupConfig {
  const v: Raw = { ...BACKUP_DEFAULTS, ...b };
  if (!String(v.folder).startsWith('/')) problems.push({ path: 'backup.folder', message: `must be an absolute path, e.g. /media/usb/shaobing (not '${v.folder}')` });
  const at = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(String(v.at));
  if (!at) problems.push({ path: 'backup.at', message: `must be a time of day as HH:MM (24 h), e.g. 03:40 (not '${v.at}')` });
  return { folder: v.folder, keep: v.keep, atHour: at ? Number(at[1]) : 0, atMinute: at ? Number(at[2]) : 0, allowSameDisk: v.allow_same_disk };
}

const camelKey = (k: string): string => k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * `panel_hw`: no `pins` is the standard Uno/Nano wiring (defaults.ts); given `pins` are the
 * site's whole wiring (a control not named is not wired). A pin serves one thing, and never
 * 0 or 1, the serial line StandardFirmata talks over.
 */
function panelHwConfig(p: Raw, problems: ConfigProblem[]): PanelHwConfig {
  const v: Raw = { ...PANEL_HW_DEFAULTS, ...p };
  const given = (v.pins ?? PANEL_HW_DEFAULTS.pins) as Record<string, number>;
  const pins = Object.fromEntries(PANEL_HW_PINS.map((name) => [camelKey(name), null])) as unknown as Record<keyof PanelHwPins, number | null>;
  const used = new Map<number, string>();
  for (const name of PANEL_HW_PINS) {
    const pin = given[name];
    if (pin === undefined) continue;
    const path = `panel_hw.pins.${name}`;
    if (pin === 0 || pin === 1) problems.push({ path, message: `pins 0 and 1 are the serial line StandardFirmata talks over; use 2 or above` });
    const first = used.get(pin);
    if (first !== undefined) problems.push({ path, message: `pin ${pin} is already panel_hw.pins.${first}` });
    else used.set(pin, name);
    pins[camelKey(name) as keyof PanelHwPins] = pin;
  }
  return { port: v.port, baud: v.baud, holdS: v.hold_s, debounceMs: v.debounce_ms, alarmCommonAnode: v.alarm_common_anode, pins };
}

export function normalise(raw: Raw): { config: SiteConfig | null; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const zoneList = zones(raw);
  const zoneIds = zoneList.map((z) => z.id);
  duplicates(raw.buses ?? [], 'buses', problems);
  const buses: BusConfig[] = ((raw.buses ?? []) as Raw[]).map((b, i) => {
    if (b.type === 'rtu' && !b.path) problems.push({ path: `buses[${i}].path`, message: 'an RTU bus needs the serial device path' });
    if (b.type === 'tcp' && !b.host) problems.push({ path: `buses[${i}].host`, message: 'a TCP bus needs a host' });
    return {
      id: b.id,
      type: b.type,
      path: b.path ?? null,
      host: b.host ?? null,
      port: b.port ?? 502,
      baud: b.baud ?? 9600,
      parity: b.parity ?? 'none',
      dataBits: b.data_bits ?? 8,
      stopBits: b.stop_bits ?? 1,
      timeoutMs: b.timeout_ms ?? (b.type === 'tcp' ? 1000 : 300),
      retries: b.retries ?? 1,
      downPollMs: (b.down_poll_s ?? 30) * 1000,
    };
  });
  const busIds = buses.map((b) => b.id);
  duplicates(raw.zones ?? [], 'zones', problems);
  duplicates(raw.sensors, 'sensors', problems);
  const sensors = (raw.sensors as Raw[]).flatMap((s, i) => {
    const path = `sensors[${i}]`;
    if (!(s.kind in HEALTH_DEFAULTS)) return []; // the schema reports the kind
    if (s.zone && !zoneIds.includes(s.zone)) problems.push({ path: `${path}.zone`, message: `unknown zone '${s.zone}' (zones: ${zoneIds.join(', ')})` });
    for (const [j, z] of ((s.sound_zones ?? []) as string[]).entries()) {
      if (!zoneIds.includes(z)) problems.push({ path: `${path}.sound_zones[${j}]`, message: `unknown zone '${z}'` });
    }
    return [sensor(s, raw.defaults ?? {}, busIds, path, problems)];
  });
  const a: Raw = { ...ACTION_DEFAULTS, ...raw.actions, level_patterns: { ...ACTION_DEFAULTS.level_patterns, ...raw.actions?.level_patterns } };
  const pats = patterns(a);
  const need = (name: string | null, path: string): void => {
    if (name !== null && !pats[name]) problems.push({ path, message: `unknown pattern '${name}' (known: ${Object.keys(pats).join(', ')})` });
  };
  for (const [lvl, name] of Object.entries(a.level_patterns as Record<string, string | null>)) need(name, `actions.level_patterns.${lvl}`);
  need(a.all_clear_pattern, 'actions.all_clear_pattern');
  need(a.fire_pattern, 'actions.fire_pattern');
  duplicates(raw.actuators ?? [], 'actuators', problems);
  const actuators = ((raw.actuators ?? []) as Raw[]).map((a, i) => {
    if (sensors.some((x) => x.id === a.id)) problems.push({ path: `actuators[${i}].id`, message: `'${a.id}' is already a sensor id` });
    for (const [j, z] of (a.zones as string[]).entries()) {
      if (!zoneIds.includes(z)) problems.push({ path: `actuators[${i}].zones[${j}]`, message: `unknown zone '${z}'` });
    }
    return { id: a.id as string, kind: a.kind as 'siren' | 'speaker', name: (a.name as string) ?? a.id, zones: a.zones as string[], modbus: modbus(a.modbus, busIds, `actuators[${i}]`, problems), audio: speakerAudio(a, `actuators[${i}]`, busIds, problems) };
  });
  ampClashes(raw.actuators ?? [], actuators, problems);
  duplicates(raw.serial ?? [], 'serial', problems);
  const serial = ((raw.serial ?? []) as Raw[]).map((p, i) => {
    for (const [line, id] of Object.entries(p.devices as Record<string, string>)) {
      if (!sensors.some((x) => x.id === id)) problems.push({ path: `serial[${i}].devices.${line}`, message: `unknown sensor '${id}'` });
    }
    return { id: p.id as string, path: p.path as string, baud: (p.baud as number) ?? 9600, protocol: p.protocol as 'ascii' | 'framed', devices: p.devices as Record<string, string> };
  });
  const m: Raw = { ...MQTT_DEFAULTS, ...raw.mqtt };
  // Two listeners on one port: the second bind fails and the box would run without a broker,
  // retrying forever. ws_port 0 turns the WebSocket listener off, so it never clashes.
  if (m.ws_port !== 0 && m.port === m.ws_port) {
    const [key, other] = raw.mqtt?.ws_port !== undefined ? ['ws_port', 'port'] : ['port', 'ws_port'];
    problems.push({ path: `mqtt.${key}`, message: `must differ from mqtt.${other} (${m.port}): both are served on ${m.host}` });
  }
  const accounts = (m.accounts as Raw[]).map((a, i) => {
    const path = `mqtt.accounts[${i}]`;
    if ((m.accounts as Raw[]).findIndex((b) => b.username === a.username) !== i) problems.push({ path: `${path}.username`, message: `duplicate username '${a.username}'` });
    if (a.role === 'device' && !sensors.some((x) => x.id === a.username) && !actuators.some((x) => x.id === a.username)) {
      problems.push({ path: `${path}.username`, message: `a device account must be named after its sensor or actuator ('${a.username}' is neither)` });
    }
    return { username: a.username as string, role: a.role, secretHash: a.secret_hash as string };
  });
  const st: Raw = { ...STORE_DEFAULTS, ...raw.store };
  const uplink = raw.uplink ? uplinkConfig(raw.uplink, raw.site.id, problems) : null;
  const backup = raw.backup ? backupConfig(raw.backup, problems) : null;
  const pn: Raw | null = raw.panel ? { ...PANEL_DEFAULTS, ...raw.panel } : null;
  if (pn && pn.port !== 0 && (pn.port === m.port || pn.port === m.ws_port)) problems.push({ path: 'panel.port', message: `must differ from the broker's ports (${m.port}, ${m.ws_port})` });
  const panelHw = raw.panel_hw ? panelHwConfig(raw.panel_hw, problems) : null;
  const s: Raw = raw.site;
  const cap: Raw = { ...SITE_DEFAULTS.cap, ...s.cap };
  const where = places(s, zoneIds, problems);
  const broadcasts = broadcastsConfig(raw.broadcasts, problems);
  const config: SiteConfig = {
    version: raw.version ?? 1,
    site: {
      id: s.id,
      name: s.name,
      nameEn: s.name_en ?? s.id,
      utcOffset: s.utc_offset ?? SITE_DEFAULTS.utc_offset,
      shelter: where.shelter,
      route: where.route,
      shelters: where.shelters,
      routes: where.routes,
      cap: {
        areaCode: cap.area_code,
        agencyCode: cap.agency_code,
        sender: cap.sender ?? `shaobing.${s.id}`,
        geocode: cap.geocode ?? null,
        circle: cap.circle ? { lat: cap.circle.lat, lon: cap.circle.lon, radiusKm: cap.circle.radius_km } : null,
      },
    },
    broadcasts,
    zones: zoneList,
    sensors,
    actuators,
    buses,
    serial,
    mqtt: { host: m.host, port: m.port, wsPort: m.ws_port, maxPayloadBytes: m.max_payload_bytes, accounts },
    uplink,
    panel: pn ? { host: pn.host, port: pn.port, sessionIdleH: pn.session_idle_h } : null,
    backup,
    audio: siteAudio(raw.audio, broadcasts.templates, problems),
    panelHw,
    selfTests: selfTests(raw.self_tests, problems),
    ipSpeakers: raw.ip_speakers ? ipSpeakers(raw.ip_speakers, m, pn, problems) : null,
    store: { path: st.path, rawRetentionDays: st.raw_retention_days, rollupRetentionDays: st.rollup_retention_days, eventRetentionDays: st.event_retention_days },
    actions: {
      sirenMaxOnS: a.siren_max_on_s,
      sirenRestS: a.siren_rest_s,
      patterns: pats,
      levelPatterns: Object.fromEntries(Object.entries(a.level_patterns).filter(([, p]) => p !== null)) as Partial<Record<Level, string>>,
      allClearPattern: a.all_clear_pattern,
      firePattern: a.fire_pattern,
      broadcastMinLevel: a.broadcast_min_level,
      broadcastRepeat: a.broadcast_repeat,
      broadcastMaxS: a.broadcast_max_s,
      templateZh: a.template_zh,
      templateEn: a.template_en,
      drillPrefixZh: '【演练】',
      drillPrefixEn: '[DRILL] ',
    },
  };
  return { config: problems.length ? null : config, problems };
}
