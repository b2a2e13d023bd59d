/**
 * Defaults that make a tiny site config complete. Each value names where it comes from.
 */
import type { Label, Level } from '../engine/types.ts';
import type { BroadcastTemplate, RainRule, SirenPattern } from './types.ts';

/**
 * China Meteorological Administration rainstorm warning signals (暴雨预警信号):
 * blue ≥ 50 mm in 12 h, yellow ≥ 50 mm in 6 h, orange ≥ 50 mm in 3 h, red ≥ 100 mm in 3 h.
 */
export const RAINSTORM: Label = { zh: '暴雨', en: 'rainstorm' };

export const CMA_RAIN_RULES: readonly RainRule[] = [
  { name: 'rain_12h', windowH: 12, mm: 50, level: 'blue', label: RAINSTORM },
  { name: 'rain_6h', windowH: 6, mm: 50, level: 'yellow', label: RAINSTORM },
  { name: 'rain_3h', windowH: 3, mm: 50, level: 'orange', label: RAINSTORM },
  { name: 'rain_3h', windowH: 3, mm: 100, level: 'red', label: RAINSTORM },
];

/**
 * What a rain rule without its own `label` warns of. Only the CMA signals themselves are a
 * rainstorm (暴雨) warning; a site's own rule is not. Within an hour it is what CMA's
 * forecasters call 短时强降水 (short-duration heavy rain, ≥ 20 mm/h); over longer windows plain
 * 强降雨 (heavy rain).
 */
export function rainLabel(windowH: number, mm: number, level: Level): Label {
  if (CMA_RAIN_RULES.some((r) => r.windowH === windowH && r.mm === mm && r.level === level)) return RAINSTORM;
  return windowH <= 1 ? { zh: '短时强降水', en: 'short-duration heavy rain' } : { zh: '强降雨', en: 'heavy rain' };
}

/**
 * Stage → colour. Follows the usual Chinese flood-warning ladder: approaching the warning
 * stage (attention) blue, over warning (超警戒) yellow, over guaranteed (超保证) orange,
 * over the historical maximum red.
 */
export const STAGE_LEVELS: Record<string, Level> = {
  attention: 'blue',
  warning: 'yellow',
  guaranteed: 'orange',
  historical_max: 'red',
};

export const HEALTH_DEFAULTS = {
  rain: { interval_s: 60, stale_intervals: 5, min: 0, max: 1e9, stuck_s: 0, error_window: 20, error_ratio: 0.5, error_streak: 3 },
  water_level: { interval_s: 60, stale_intervals: 5, min: -10, max: 200, stuck_s: 6 * 3600, error_window: 20, error_ratio: 0.5, error_streak: 3 },
  smoke: { interval_s: 30, stale_intervals: 5, min: 0, max: 20, stuck_s: 0, error_window: 20, error_ratio: 0.5, error_streak: 3 },
} as const;

/**
 * A sensor the box polls itself keeps the box's own cadence: its expected interval is its
 * `poll_s`, and three missed polls make it stale (a pushed sensor's clock drifts, so it gets
 * five intervals). A dead polled unit is then a fault within three poll intervals, whatever the
 * bus timeouts and the down-unit polling (drivers/modbus/bus-queue.ts) do to the failed reads.
 */
export const POLLED_STALE_INTERVALS = 3;

export const KIND_DEFAULTS = {
  rain: { scale: 1, counter_modulus: 0, max_rate_mm_per_min: 50, clear_after_s: 1800 },
  water_level: {
    rise: [
      { m: 0.3, level: 'yellow' as Level },
      { m: 0.5, level: 'orange' as Level },
    ],
    rise_window_min: 10,
    hysteresis_m: 0.05,
    rise_hysteresis_m: 0.05,
    raise_after_s: 60,
    clear_after_s: 600,
  },
  smoke: { mode: 'state' as const, alarm_db_m: 0.15, confirm_s: 60, clear_after_s: 120 },
};

function repeat(on: number, off: number, times: number): number[] {
  const steps: number[] = [];
  for (let i = 0; i < times; i++) steps.push(on, off);
  steps.pop(); // the last off is silence anyway
  return steps;
}

/**
 * Named siren patterns. The three air-defence signals are China's national standard ones
 * (人民防空警报信号): 预先警报 36 s on / 24 s off ×3, 空袭警报 6 s on / 6 s off ×15,
 * 解除警报 3 min continuous.
 */
export const BUILTIN_PATTERNS: Record<string, SirenPattern> = {
  air_raid_pre_alert: { steps: repeat(36, 24, 3), nameZh: '预先警报', nameEn: 'pre-alert' },
  air_raid_alarm: { steps: repeat(6, 6, 15), nameZh: '紧急警报', nameEn: 'alarm' },
  all_clear: { steps: [180], nameZh: '解除警报', nameEn: 'all clear' },
  fire_alarm: { steps: repeat(2, 1, 30), nameZh: '火警', nameEn: 'fire alarm' },
  test: { steps: [3], nameZh: '试鸣', nameEn: 'test' },
};

export const ACTION_DEFAULTS = {
  siren_max_on_s: 180,
  siren_rest_s: 10,
  level_patterns: { red: 'air_raid_alarm', orange: 'air_raid_pre_alert' } as Partial<Record<Level, string | null>>,
  all_clear_pattern: 'all_clear',
  fire_pattern: 'fire_alarm',
  broadcast_min_level: 'yellow' as Level,
  broadcast_repeat: 3,
  broadcast_max_s: 300,
  template_zh: '{site}:{text}。请沿{route}前往{shelter}。',
  template_en: '{site}: {text}. Go to {shelter} by {route}.',
};

/**
 * The named broadcasts every site has (`broadcasts.templates` may change any field or add its
 * own). Filled per zone (planner/template.ts): `{site}`, `{zone}`, and the zone's `{shelter}` and
 * `{route}`. The words follow the usual order of a village warning broadcast: who speaks, what
 * is happening, who must act, what to do, where to go. `test` is what the scheduled self-test
 * has always said.
 */
export const BUILTIN_TEMPLATES: Record<string, BroadcastTemplate> = {
  evacuation: {
    nameZh: '紧急撤离',
    nameEn: 'evacuation',
    textZh: '{site}紧急通知:{zone}的居民请立即沿{route}撤离到{shelter}。',
    textEn: '{site} emergency notice: people in {zone}, leave now for {shelter} by {route}.',
    audio: null,
  },
  rainstorm: {
    nameZh: '暴雨预警',
    nameEn: 'rainstorm warning',
    textZh: '{site}暴雨预警:请{zone}的居民远离河道、低洼处和山坡,做好转移准备,听到撤离通知后沿{route}前往{shelter}。',
    textEn: '{site} rainstorm warning: people in {zone}, keep away from rivers, low ground and slopes, and be ready to leave; when told to, go to {shelter} by {route}.',
    audio: null,
  },
  flood: {
    nameZh: '洪水转移',
    nameEn: 'flood warning',
    textZh: '{site}洪水预警:河水上涨,请{zone}的居民立即沿{route}转移到{shelter},不要涉水过河。',
    textEn: '{site} flood warning: the river is rising. People in {zone}, move now to {shelter} by {route}. Do not wade through water.',
    audio: null,
  },
  fire: {
    nameZh: '火警疏散',
    nameEn: 'fire evacuation',
    textZh: '{site}火警:{zone}发生火情,请立即从最近的安全出口撤离,不要乘坐电梯,到{shelter}集合。',
    textEn: '{site} fire alarm: there is a fire in {zone}. Leave now by the nearest exit, do not use the lift, and gather at {shelter}.',
    audio: null,
  },
  all_clear: {
    nameZh: '解除警报',
    nameEn: 'all clear',
    textZh: '{site}解除警报:{zone}险情已解除,请有序返回,注意安全。',
    textEn: '{site} all clear: the danger in {zone} is over. You may return; take care.',
    audio: null,
  },
  test: {
    nameZh: '例行测试',
    nameEn: 'routine test',
    textZh: '{site}预警设备例行测试,这不是警报。',
    textEn: '{site} alert equipment routine test. This is not an alarm.',
    audio: null,
  },
};

export const SITE_DEFAULTS = {
  utc_offset: '+08:00',
  shelter: { zh: '就近避难点', en: 'the nearest shelter' },
  route: { zh: '安全路线', en: 'the safe route' },
  cap: { area_code: '000000', agency_code: '00000000' },
};

/** The broker listens on every interface of the box: sensors and the panel are on the LAN. */
export const MQTT_DEFAULTS = { host: '0.0.0.0', port: 1883, ws_port: 8083, max_payload_bytes: 4096, accounts: [] as unknown[] };

/** Raw readings a week, 1-minute rollups a year and a month, events a year. */
export const STORE_DEFAULTS = { path: 'data/shaobing.db', raw_retention_days: 7, rollup_retention_days: 400, event_retention_days: 365 };

/** The uplink's defaults; `client_id` defaults to `sb-<site>` (normalise.ts). */
export const UPLINK_DEFAULTS = { protocol_version: 5, keepalive_s: 30, window: 64 };

/** The panel's defaults (types.ts PanelConfig says why 0.0.0.0). */
export const PANEL_DEFAULTS = { host: '0.0.0.0', port: 8080, session_idle_h: 12 };

/** The daily backup's defaults: a week of copies, at 03:40 (after retention's 03:17). */
export const BACKUP_DEFAULTS = { keep: 7, at: '03:40', allow_same_disk: false };

/**
 * Broadcast audio (drivers/speaker/). The Mandarin voice is cmn-latn-pinyin, not cmn: Debian 12's
 * cmn reads its dictionary's pinyin as English words (drivers/speaker/tts.ts says more).
 */
export const AUDIO_DEFAULTS = { folder: 'audio', tts: { command: 'espeak-ng', voice_zh: 'cmn-latn-pinyin', voice_en: 'en', speed_wpm: 175 } };

/** A speaker's `audio:` defaults: WAVs of the file sink go next to the event log, the newest 200 kept (about 0.5 GB at most for minute-long broadcasts). */
export const SPEAKER_AUDIO_DEFAULTS = { device: 'default', folder: 'data/audio', keep: 200, english: true };

/**
 * The physical panel's defaults, and its standard wiring on an Arduino Uno or Nano (README
 * "Physical panel"): inputs on 2, 4, 7, 8 (no PWM needed), the alarm RGB LED on PWM pins 9-11.
 * Pins 0 and 1 are the serial line StandardFirmata talks over.
 */
export const PANEL_HW_DEFAULTS = {
  baud: 57600,
  hold_s: 3,
  debounce_ms: 50,
  alarm_common_anode: false,
  pins: { emergency: 2, silence: 4, ack_all: 7, drill_key: 8, buzzer: 5, led_fault: 6, led_alarm_red: 9, led_alarm_green: 10, led_alarm_blue: 11, led_uplink: 12, led_power: 13, led_drill: 14 },
};
/** The broadcast templates a recording may be for (README "Broadcasts and sound"); a site's own `broadcasts.templates` add to them. */
export const BROADCAST_TEMPLATE_IDS = ['evacuation', 'rainstorm', 'flood', 'fire', 'all_clear', 'test'] as const;

/**
 * The scheduled self-tests (README "Self-tests"): the speakers on Mondays at 10:00, the sirens'
 * 3 s growl on the 1st of each month at 10:05 (daytime, people awake, and not at the same minute
 * as a Monday's speaker test), the reporting check daily at 08:00 (the morning duty officer sees
 * its faults). In the site's UTC offset.
 */
export const SELF_TEST_DEFAULTS = {
  speaker_weekly: '0 10 * * 1',
  siren_monthly: '5 10 1 * *',
  reporting_daily: '0 8 * * *',
  retry_after_min: 30,
  done_within_s: 60,
  reporting_gap_intervals: 3,
};

/** The IP speakers' audio server (types.ts IpSpeakersConfig); `host` defaults to the broker's. */
export const IP_SPEAKER_DEFAULTS = { port: 8081, render_wait_s: 10, english: true };
