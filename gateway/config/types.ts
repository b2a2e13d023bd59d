/**
 * The effective site configuration after validation, defaults and normalisation.
 * File keys are snake_case (they are data); these types are what the code uses.
 */
import type { Label, Level } from '../engine/types.ts';

export const RAIN_WINDOWS_H = [1, 3, 6, 12, 24] as const;
export type RainWindowH = (typeof RAIN_WINDOWS_H)[number];

export interface RainRule {
  /** The site's own name for the rule: data for logs and CAP, never read to build a sentence. */
  name: string;
  windowH: RainWindowH;
  mm: number;
  level: Level;
  /** What the rule warns of, in the sentences: `暴雨` / rainstorm for a CMA signal, else the rule's `label`. */
  label: Label;
}

export interface HealthConfig {
  /** Expected seconds between readings. */
  intervalS: number;
  /** No reading for this many intervals makes the sensor stale. */
  staleIntervals: number;
  /** Inclusive plausible range in the engineering unit; outside it a reading is a fault. */
  min: number;
  max: number;
  /** The exact same value for this long is a stuck sensor (0 = never). */
  stuckS: number;
  /** Over the last `errorWindow` readings, this fraction of errors or more is a fault. */
  errorWindow: number;
  errorRatio: number;
  /** This many failed reads in a row are a fault at once, full window or not (0 = off). */
  errorStreak: number;
}

/** A device on a Modbus bus (see hardware/profiles/). */
export interface ModbusSource {
  bus: string;
  unit: number;
  profile: string;
  /** Profile register that feeds the sensor; default: the profile's `feeds` register. */
  register: string | null;
  pollS: number;
  /** Relay channel for a siren on a relay board. */
  coil: number;
}

export interface BusConfig {
  id: string;
  type: 'rtu' | 'tcp';
  path: string | null;
  host: string | null;
  port: number;
  baud: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
  /** Per-try timeout: the longest one try holds the line (a write waits for at most one). */
  timeoutMs: number;
  /** Extra tries after a transport failure; each try is its own transaction (bus-queue.ts). */
  retries: number;
  /** A unit that failed three polls in a row is asked once this often (±10 %) until it answers. */
  downPollMs: number;
}

/** A serial line carrying simple sensors (drivers/serial): ASCII lines or CRC frames. */
export interface SerialPortConfig {
  id: string;
  path: string;
  baud: number;
  protocol: 'ascii' | 'framed';
  /** Device id as written on the line → box sensor id. */
  devices: Record<string, string>;
}

interface SensorBase {
  id: string;
  /** Null for devices that publish over MQTT themselves. */
  modbus: ModbusSource | null;
  name: string;
  nameEn: string;
  zone: string;
  /** Zones whose sirens and speakers this sensor's alerts use. */
  soundZones: string[];
  health: HealthConfig;
}

export interface RainSensor extends SensorBase {
  kind: 'rain';
  /** Multiplier from the value the device reports to mm. */
  scale: number;
  /** The raw counter wraps at this value (65536 for a 16-bit counter); 0 = unknown. */
  counterModulus: number;
  /** More than this per minute is not rain but a glitch. */
  maxRateMmPerMin: number;
  rules: RainRule[];
  /** Below every rule for this long before the alert steps down or clears. */
  clearAfterS: number;
}

export type StageName = 'attention' | 'warning' | 'guaranteed' | 'historical_max';
export const STAGE_NAMES: readonly StageName[] = ['attention', 'warning', 'guaranteed', 'historical_max'];

export interface Threshold {
  name: string;
  value: number;
  level: Level;
}

export interface WaterLevelSensor extends SensorBase {
  kind: 'water_level';
  /** Stage thresholds in m, lowest first. */
  stages: Threshold[];
  /** Rate of rise thresholds in m per `riseWindowMin`, lowest first. */
  rise: Threshold[];
  riseWindowMin: number;
  hysteresisM: number;
  riseHysteresisM: number;
  raiseAfterS: number;
  clearAfterS: number;
}

export interface SmokeSensor extends SensorBase {
  kind: 'smoke';
  mode: 'state' | 'analog';
  alarmDbM: number;
  confirmS: number;
  clearAfterS: number;
}

export type SensorConfig = RainSensor | WaterLevelSensor | SmokeSensor;

export interface SitePlace {
  zh: string;
  en: string;
}

/** A place people go to (a shelter, 避难点), with the zones whose people it takes. */
export interface ShelterConfig {
  id: string;
  zh: string;
  en: string;
  /** The zones whose broadcasts send people here; null = any zone no other shelter lists (places.ts `shelterFor`). */
  zones: string[] | null;
}

/** The way to a shelter (a route, 撤离路线). */
export interface RouteConfig {
  id: string;
  zh: string;
  en: string;
  /** The shelter it leads to (an id of `site.shelters`). */
  shelter: string;
}

/**
 * A named broadcast (`broadcasts.templates.<id>`): what an officer's one-button broadcast says,
 * filled per zone by planner/template.ts (`{site}`, `{shelter}`, `{route}`, `{zone}`, `{text}`).
 */
export interface BroadcastTemplate {
  nameZh: string;
  nameEn: string;
  textZh: string;
  textEn: string;
  /** A recorded announcement's file name, played instead of TTS by a speaker that has it; null = TTS. */
  audio: string | null;
}

export interface BroadcastsConfig {
  /** By id: the built-ins (defaults.ts BUILTIN_TEMPLATES) with the site's own and its changes. */
  templates: Record<string, BroadcastTemplate>;
}

export interface CapConfig {
  areaCode: string;
  agencyCode: string;
  sender: string;
  geocode: string | null;
  circle: { lat: number; lon: number; radiusKm: number } | null;
}

export interface ZoneConfig {
  id: string;
  name: string;
  nameEn: string;
}

export interface SirenPattern {
  /** Alternating on/off durations in seconds, starting with on. */
  steps: number[];
  nameZh: string;
  nameEn: string;
}

export interface ActionsConfig {
  sirenMaxOnS: number;
  /** Minimum off time after a siren reached its maximum on-time. */
  sirenRestS: number;
  patterns: Record<string, SirenPattern>;
  levelPatterns: Partial<Record<Level, string>>;
  allClearPattern: string | null;
  /** Pattern for a confirmed fire (smoke) alarm, whatever its level. */
  firePattern: string;
  broadcastMinLevel: Level;
  broadcastRepeat: number;
  broadcastMaxS: number;
  templateZh: string;
  templateEn: string;
  drillPrefixZh: string;
  drillPrefixEn: string;
}

export type AccountRole = 'device' | 'officer' | 'township' | 'observer';

export interface MqttAccount {
  /** For a device: its sensor or actuator id. */
  username: string;
  role: AccountRole;
  /** `scrypt$N$r$p$salt$hash` (base64), from `shaobing hash-secret`. Never the secret itself. */
  secretHash: string;
}

export interface MqttConfig {
  host: string;
  port: number;
  /** WebSocket port for the panel; 0 = off. */
  wsPort: number;
  maxPayloadBytes: number;
  accounts: MqttAccount[];
}

export interface ActuatorConfig {
  id: string;
  kind: 'siren' | 'speaker';
  name: string;
  zones: string[];
  modbus: ModbusSource | null;
  /** A speaker the box plays itself (drivers/speaker/); null: an MQTT speaker, sent `cmd/<id>`. */
  audio: SpeakerAudio | null;
}

/** A speaker played by the box itself (README "Broadcasts and sound"). */
export interface SpeakerAudio {
  /** `alsa`: aplay on `device`; `file`: one WAV per broadcast in `folder`, paced in real time. */
  sink: 'alsa' | 'file';
  /** ALSA device for aplay -D (`default`, `hw:1,0`, `plughw:CARD=Device`). */
  device: string;
  folder: string;
  /** File sink: the newest this many WAVs of this speaker are kept in `folder`, older ones deleted (an SD card fills up). */
  keep: number;
  /** File sink only: also play on this ALSA device when the box has a sound card; null: never. */
  monitor: string | null;
  /** Speak the English text after the Mandarin. */
  english: boolean;
  /** The amplifier's power relay: on before the chime, off after the last word. Null: none. */
  amp: { bus: string; unit: number; profile: string; coil: number } | null;
}

/** A recorded announcement of one broadcast template; paths already joined with the audio folder. */
export interface AudioRecording {
  zh: string;
  en: string | null;
  /** Speak the text's figures (clauses with digits) in TTS after the recording. */
  figures: boolean;
}

/** The site's broadcast audio: recordings and text-to-speech (drivers/speaker/). */
export interface AudioConfig {
  /** Where the recordings are (relative to the working directory, like store.path). */
  folder: string;
  /** Template id → its recording. */
  recordings: Record<string, AudioRecording>;
  tts: { command: string; voiceZh: string; voiceEn: string; speedWpm: number };
}

export interface StoreConfig {
  path: string;
  rawRetentionDays: number;
  rollupRetentionDays: number;
  eventRetentionDays: number;
}

/**
 * The township uplink (gateway/uplink/): one MQTT client of the township's broker. Absent
 * from the file = no uplink. The password is a file's path; the uplink reads it at start.
 */
export interface UplinkConfig {
  /** `mqtt://host:1883` or `mqtts://host:8883`. */
  url: string;
  username: string | null;
  passwordFile: string | null;
  /** Default `sb-<site>`. */
  clientId: string;
  caFile: string | null;
  certFile: string | null;
  keyFile: string | null;
  /** 5 (default; falls back to 4 when the broker refuses 5) or 4. */
  protocolVersion: 4 | 5;
  keepaliveS: number;
  /** QoS 1 messages in flight at most (default 64). */
  window: number;
}

/**
 * The duty officer's panel (gateway/panel/): an HTTP API on the LAN. Absent from the file = no
 * panel (like `uplink`: a listener is opened only when the site asks for one).
 */
export interface PanelConfig {
  /** Default `0.0.0.0`: phones and laptops on the shelter's LAN reach it, as the broker's default does. */
  host: string;
  /** Default 8080; 0 = an ephemeral port (tests). */
  port: number;
  /** A session ends after this many hours without a request (default 12). */
  sessionIdleH: number;
}

/**
 * The daily backup of the log (gateway/backup/scheduled-backup.ts). Absent from the file = none.
 */
export interface BackupConfig {
  /** An absolute folder, typically on a USB stick (`/media/usb/shaobing`). */
  folder: string;
  /** Backups kept there, newest first; older ones are deleted after a good new one (default 7). */
  keep: number;
  /** Local time of day, 24 h (default 03:40, after the 03:17 retention run). */
  atHour: number;
  atMinute: number;
  /** Allow a folder on the log's own disk (default false: an unmounted stick's empty mount point would be that). */
  allowSameDisk: boolean;
}

/**
 * The physical panel (drivers/panel-hw/): an Arduino Uno/Nano running StandardFirmata on a
 * serial port, with the panel's buttons, key switch, LEDs and buzzer on its pins. Absent from
 * the file = no physical panel. A pin left null is not wired.
 */
export interface PanelHwPins {
  /** Guarded emergency-broadcast button: held `holdS` → the evacuation broadcast on every zone. */
  emergency: number | null;
  silence: number | null;
  ackAll: number | null;
  /** Key switch: closed = drill mode. */
  drillKey: number | null;
  ledPower: number | null;
  ledUplink: number | null;
  /** The alarm colour: an RGB LED (common cathode unless `alarmCommonAnode`), on PWM pins so orange differs from yellow. */
  ledAlarmRed: number | null;
  ledAlarmGreen: number | null;
  ledAlarmBlue: number | null;
  ledFault: number | null;
  ledDrill: number | null;
  /** An active buzzer (sounds while its pin is high). */
  buzzer: number | null;
}

export interface PanelHwConfig {
  /** The serial device, e.g. `/dev/ttyUSB0` or a `/dev/serial/by-id/…` link. */
  port: string;
  /** StandardFirmata's is 57600 (default). */
  baud: number;
  /** How long the emergency button must be held (default 3 s). */
  holdS: number;
  /** An input must hold a level this long to count (default 50 ms): contact bounce and noise on the cable. */
  debounceMs: number;
  alarmCommonAnode: boolean;
  pins: PanelHwPins;
}

/**
 * Networked (IP) speakers: the box renders each broadcast once and serves it over HTTP; an MQTT
 * speaker's `cmd/<id>` then carries the audio's URL with the text (drivers/ip-speaker/).
 * Absent from the file = no audio server: commands carry the text only.
 */
export interface IpSpeakersConfig {
  /** Where the audio server listens; default the broker's host (the interfaces speakers already reach). */
  host: string;
  /** Default 8081; 0 = an ephemeral port (tests). */
  port: number;
  /** The host the URLs name; null: `host` when it is one address, else the box's first LAN IPv4. */
  urlHost: string | null;
  /** How long a speaker's fetch waits for audio still being rendered. */
  renderWaitS: number;
  /** Speak the English text after the Mandarin in the audio, as a local speaker's `audio.english`. */
  english: boolean;
}

/** The scheduled self-tests (gateway/schedule/): what runs when, and how long a device may take. */
export interface SelfTestsConfig {
  /** Cron strings in the site's UTC offset (schedule/cron.ts); null = that test is off. */
  cron: { speakerWeekly: string | null; sirenMonthly: string | null; reportingDaily: string | null };
  /** A test skipped while an alarm is active is tried again this many minutes later. */
  retryAfterMin: number;
  /** A speaker must report `done` (an MQTT siren any report) this long after its test was sent. */
  doneWithinS: number;
  /** A sensor fails the daily check when it was silent for longer than this many of its intervals. */
  reportingGapIntervals: number;
}

export interface SiteConfig {
  version: number;
  site: {
    id: string;
    name: string;
    nameEn: string;
    /** UTC offset used for wall times in output, e.g. `+08:00`. */
    utcOffset: string;
    /** The first shelter's words (`shelters[0]`). */
    shelter: SitePlace;
    /** The way to the first shelter: its first route, else the words for a shelter without a route (places.ts). */
    route: SitePlace;
    /** At least one: without `site.shelters` in the file, the one of `site.shelter` (places.ts). */
    shelters: ShelterConfig[];
    routes: RouteConfig[];
    cap: CapConfig;
  };
  broadcasts: BroadcastsConfig;
  zones: ZoneConfig[];
  sensors: SensorConfig[];
  actuators: ActuatorConfig[];
  buses: BusConfig[];
  serial: SerialPortConfig[];
  actions: ActionsConfig;
  mqtt: MqttConfig;
  store: StoreConfig;
  /** Null: no uplink. */
  uplink: UplinkConfig | null;
  /** Null: no panel. */
  panel: PanelConfig | null;
  /** Null: no scheduled backup. */
  backup: BackupConfig | null;
  /** Broadcast audio for speakers the box plays itself (defaults when the file has none). */
  audio: AudioConfig;
  /** Null: no physical panel. */
  panelHw: PanelHwConfig | null;
  selfTests: SelfTestsConfig;
  /** Null: no audio server for IP speakers. */
  ipSpeakers: IpSpeakersConfig | null;
}
