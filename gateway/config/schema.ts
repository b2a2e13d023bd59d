/**
 * JSON Schema of the site config file (snake_case keys). It checks shape, types and ranges and
 * rejects unknown keys; defaults and cross-field rules live in normalise.ts, because Ajv does
 * not apply defaults inside `oneOf` branches.
 */
import { LEVELS } from '../engine/types.ts';
import { SCRYPT_HASH } from '../shell/secrets.ts';
import { RAIN_WINDOWS_H } from './types.ts';

/** The physical panel's pin names (config `panel_hw.pins`), in the file's snake_case. */
export const PANEL_HW_PINS = ['emergency', 'silence', 'ack_all', 'drill_key', 'led_power', 'led_uplink', 'led_alarm_red', 'led_alarm_green', 'led_alarm_blue', 'led_fault', 'led_drill', 'buzzer'] as const;

/** Ids end up in MQTT topics and file names: no `/`, `+`, `#` or spaces. */
const id = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' };
const text = { type: 'string', minLength: 1, maxLength: 200 };
const level = { enum: [...LEVELS] };
const seconds = { type: 'number', minimum: 0, maximum: 604800 };
const positive = { type: 'number', exclusiveMinimum: 0 };
const baud = { enum: [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] };

/**
 * Sensors per site (load.ts checks it before the schema). The box is benched at 1,000-1,200
 * sensors within its 120 MB budget (README "Benchmarks"); up to twice that is allowed.
 */
export const MAX_SENSORS = 2000;

const health = {
  interval_s: { type: 'number', minimum: 1, maximum: 86400 },
  stale_intervals: { type: 'integer', minimum: 1, maximum: 1000 },
  min: { type: 'number' },
  max: { type: 'number' },
  stuck_s: seconds,
  error_window: { type: 'integer', minimum: 2, maximum: 1000 },
  error_ratio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
  error_streak: { type: 'integer', minimum: 0, maximum: 1000 },
};

/** Where a device is on a field bus: which bus, which unit id, which device profile. */
const modbusSource = {
  type: 'object',
  additionalProperties: false,
  required: ['bus', 'unit', 'profile'],
  properties: {
    bus: id,
    unit: { type: 'integer', minimum: 1, maximum: 247 },
    profile: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
    register: { type: 'string', minLength: 1, maxLength: 64 },
    poll_s: { type: 'number', minimum: 0.1, maximum: 3600 },
    coil: { type: 'integer', minimum: 0, maximum: 65535 },
  },
};

/** An ALSA device name for aplay -D: `default`, `hw:1,0`, `plughw:CARD=Device,DEV=0`, `null`. */
const alsaDevice = { type: 'string', pattern: '^[A-Za-z0-9_:,.=-]{1,80}$' };
const audioFile = { type: 'string', minLength: 1, maxLength: 300, pattern: '\\.(wav|opus|flac|ogg)$' };

/** A speaker the box plays itself (drivers/speaker/); README "Broadcasts and sound". */
const speakerAudio = {
  type: 'object',
  additionalProperties: false,
  required: ['sink'],
  properties: {
    sink: { enum: ['alsa', 'file'] },
    device: alsaDevice,
    folder: { type: 'string', minLength: 1, maxLength: 300 },
    keep: { type: 'integer', minimum: 1, maximum: 100000 },
    monitor: alsaDevice,
    english: { type: 'boolean' },
    amp: {
      type: 'object',
      additionalProperties: false,
      required: ['bus', 'unit', 'profile'],
      properties: { bus: id, unit: { type: 'integer', minimum: 1, maximum: 247 }, profile: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' }, coil: { type: 'integer', minimum: 0, maximum: 65535 } },
    },
  },
};

/** The site's recordings and text-to-speech. */
const siteAudio = {
  type: 'object',
  additionalProperties: false,
  properties: {
    folder: { type: 'string', minLength: 1, maxLength: 300 },
    recordings: {
      type: 'object',
      propertyNames: id,
      // A file name, or {zh, en, figures}: one schema for both (string keywords apply to the string,
      // object keywords to the object), so a mistake gets one message, not an anyOf's three.
      additionalProperties: {
        ...audioFile,
        type: ['string', 'object'],
        additionalProperties: false,
        properties: { zh: audioFile, en: audioFile, figures: { type: 'boolean' } },
      },
    },
    tts: {
      type: 'object',
      additionalProperties: false,
      properties: {
        command: { type: 'string', minLength: 1, maxLength: 300 },
        voice_zh: { type: 'string', pattern: '^[A-Za-z0-9_+-]{1,64}$' },
        voice_en: { type: 'string', pattern: '^[A-Za-z0-9_+-]{1,64}$' },
        speed_wpm: { type: 'integer', minimum: 80, maximum: 450 },
      },
    },
  },
};

const common = {
  id,
  modbus: modbusSource,
  name: text,
  name_en: text,
  zone: id,
  sound_zones: { type: 'array', items: id, minItems: 1, uniqueItems: true },
  ...health,
};

const rainRule = {
  type: 'object',
  additionalProperties: false,
  required: ['window_h', 'mm', 'level'],
  properties: {
    name: id,
    window_h: { enum: [...RAIN_WINDOWS_H] },
    mm: positive,
    level,
    // Both languages: the box says every sentence in both.
    label: { type: 'object', additionalProperties: false, required: ['zh', 'en'], properties: { zh: text, en: text } },
  },
};

const rainFields = {
  scale: positive,
  counter_modulus: { type: 'number', minimum: 0 },
  max_rate_mm_per_min: positive,
  rules: { type: 'array', items: rainRule },
  extra_rules: { type: 'array', items: rainRule },
  clear_after_s: seconds,
};

const stagesObject = {
  type: 'object',
  additionalProperties: false,
  properties: { attention: { type: 'number' }, warning: { type: 'number' }, guaranteed: { type: 'number' }, historical_max: { type: 'number' } },
};

const levelMap = {
  type: 'object',
  additionalProperties: false,
  properties: { attention: level, warning: level, guaranteed: level, historical_max: level },
};

const riseThreshold = {
  type: 'object',
  additionalProperties: false,
  required: ['m', 'level'],
  properties: { m: positive, level },
};

const waterFields = {
  stages: stagesObject,
  stage_levels: levelMap,
  rise: { type: 'array', items: riseThreshold },
  rise_window_min: { type: 'number', minimum: 1, maximum: 120 },
  hysteresis_m: { type: 'number', minimum: 0 },
  rise_hysteresis_m: { type: 'number', minimum: 0 },
  raise_after_s: seconds,
  clear_after_s: seconds,
};

const smokeFields = {
  mode: { enum: ['state', 'analog'] },
  alarm_db_m: positive,
  confirm_s: { type: 'number', minimum: 1, maximum: 3600 },
  clear_after_s: seconds,
};

function sensorBranch(kind: string, fields: object): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['id', 'kind'],
    properties: { kind: { const: kind }, ...common, ...fields },
  };
}

function defaultsBranch(fields: object): object {
  return { type: 'object', additionalProperties: false, properties: { ...health, ...fields } };
}

const place = { type: 'object', additionalProperties: false, required: ['zh'], properties: { zh: text, en: text } };
/** A self-test's time: a cron string (schedule/cron.ts says which), or false (or null) for off; `true` is refused in normalise (one clear line, not anyOf's three). */
const selfTestCron = { type: ['string', 'boolean', 'null'], minLength: 1, maxLength: 100 };

/** Shelters and routes (normalise.ts `places`): both languages, since every broadcast is said in both. */
const shelterItem = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'zh', 'en'],
  properties: { id, zh: text, en: text, zones: { type: 'array', items: id, minItems: 1, uniqueItems: true } },
};
const routeItem = { type: 'object', additionalProperties: false, required: ['id', 'zh', 'en', 'shelter'], properties: { id, zh: text, en: text, shelter: id } };

/**
 * A named broadcast template (normalise.ts `templates`). Every key is optional here because a
 * site may change one field of a built-in template; a template of the site's own needs all four
 * texts, which normalise.ts checks. `audio` is a file name (no directory: where recordings live
 * is the speaker's business), played instead of TTS by a speaker that has it.
 */
const templateItem = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name_zh: text,
    name_en: text,
    text_zh: { type: 'string', minLength: 1, maxLength: 500 },
    text_en: { type: 'string', minLength: 1, maxLength: 500 },
    audio: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' },
  },
};

export const siteConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['site', 'sensors'],
  properties: {
    version: { type: 'integer', minimum: 1 },
    site: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name'],
      properties: {
        id,
        name: text,
        name_en: text,
        utc_offset: { type: 'string', pattern: '^[+-](0\\d|1[0-4]):[0-5]\\d$' },
        shelter: place,
        route: place,
        shelters: { type: 'array', minItems: 1, maxItems: 50, items: shelterItem },
        routes: { type: 'array', minItems: 1, maxItems: 100, items: routeItem },
        cap: {
          type: 'object',
          additionalProperties: false,
          properties: {
            area_code: { type: 'string', pattern: '^\\d{6}$' },
            agency_code: { type: 'string', pattern: '^\\d{2,12}$' },
            sender: { type: 'string', pattern: '^[^\\s,<&]+$' },
            geocode: { type: 'string', pattern: '^\\d{6,12}$' },
            circle: {
              type: 'object',
              additionalProperties: false,
              required: ['lat', 'lon', 'radius_km'],
              properties: {
                lat: { type: 'number', minimum: -90, maximum: 90 },
                lon: { type: 'number', minimum: -180, maximum: 180 },
                radius_km: positive,
              },
            },
          },
        },
      },
    },
    zones: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: { id, name: text, name_en: text },
      },
    },
    defaults: {
      type: 'object',
      additionalProperties: false,
      properties: {
        rain: defaultsBranch(rainFields),
        water_level: defaultsBranch(waterFields),
        smoke: defaultsBranch(smokeFields),
      },
    },
    sensors: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['kind'],
        discriminator: { propertyName: 'kind' },
        oneOf: [sensorBranch('rain', rainFields), sensorBranch('water_level', waterFields), sensorBranch('smoke', smokeFields)],
      },
    },
    actuators: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'kind', 'zones'],
        properties: { id, kind: { enum: ['siren', 'speaker'] }, name: text, zones: { type: 'array', items: id, minItems: 1, uniqueItems: true }, modbus: modbusSource, audio: speakerAudio },
      },
    },
    buses: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'type'],
        properties: {
          id,
          type: { enum: ['rtu', 'tcp'] },
          path: { type: 'string', minLength: 1 },
          host: { type: 'string', minLength: 1 },
          port: { type: 'integer', minimum: 1, maximum: 65535 },
          baud,
          parity: { enum: ['none', 'even', 'odd'] },
          data_bits: { enum: [7, 8] },
          stop_bits: { enum: [1, 2] },
          timeout_ms: { type: 'integer', minimum: 20, maximum: 10000 },
          retries: { type: 'integer', minimum: 0, maximum: 5 },
          down_poll_s: { type: 'number', minimum: 1, maximum: 3600 },
        },
      },
    },
    serial: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'path', 'protocol', 'devices'],
        properties: {
          id,
          path: { type: 'string', minLength: 1 },
          baud,
          protocol: { enum: ['ascii', 'framed'] },
          devices: { type: 'object', minProperties: 1, propertyNames: { pattern: '^[A-Za-z0-9_-]{1,32}$' }, additionalProperties: id },
        },
      },
    },
    mqtt: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        ws_port: { type: 'integer', minimum: 0, maximum: 65535 },
        max_payload_bytes: { type: 'integer', minimum: 64, maximum: 262144 },
        accounts: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['username', 'role', 'secret_hash'],
            properties: {
              username: id,
              role: { enum: ['device', 'officer', 'township', 'observer'] },
              secret_hash: { type: 'string', pattern: SCRYPT_HASH.source },
            },
          },
        },
      },
    },
    uplink: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        // mqtt:// or mqtts://, a host, an optional port, nothing after it (the topics are fixed).
        url: { type: 'string', pattern: '^mqtts?://[A-Za-z0-9.\\-\\[\\]:]+(:\\d{1,5})?/?$', maxLength: 300 },
        username: { type: 'string', minLength: 1, maxLength: 200 },
        password_file: { type: 'string', minLength: 1 },
        client_id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
        ca_file: { type: 'string', minLength: 1 },
        cert_file: { type: 'string', minLength: 1 },
        key_file: { type: 'string', minLength: 1 },
        protocol_version: { enum: [4, 5] },
        keepalive_s: { type: 'integer', minimum: 5, maximum: 3600 },
        window: { type: 'integer', minimum: 1, maximum: 1024 },
      },
    },
    panel: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1, maxLength: 253 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        // 1 minute (a shared screen) to a week.
        session_idle_h: { type: 'number', minimum: 0.01, maximum: 168 },
      },
    },
    // Daily backup of the log (gateway/backup/scheduled-backup.ts); folder and time checked in normalise.ts.
    backup: {
      type: 'object',
      additionalProperties: false,
      required: ['folder'],
      properties: {
        folder: { type: 'string', minLength: 1, maxLength: 400 },
        keep: { type: 'integer', minimum: 1, maximum: 365 },
        at: { type: 'string', minLength: 1, maxLength: 5 },
        allow_same_disk: { type: 'boolean' },
      },
    },
    audio: siteAudio,
    panel_hw: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      properties: {
        port: { type: 'string', minLength: 1, maxLength: 300 },
        baud,
        hold_s: { type: 'number', minimum: 0.1, maximum: 30 },
        debounce_ms: { type: 'integer', minimum: 1, maximum: 1000 },
        alarm_common_anode: { type: 'boolean' },
        pins: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          // Firmata numbers pins 0-127; 0 and 1 are refused in normalise.ts with the reason.
          properties: Object.fromEntries(PANEL_HW_PINS.map((p) => [p, { type: 'integer', minimum: 0, maximum: 127 }])),
        },
      },
    },
    store: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', minLength: 1 },
        raw_retention_days: { type: 'number', minimum: 0.01, maximum: 3650 },
        rollup_retention_days: { type: 'number', minimum: 1, maximum: 36500 },
        event_retention_days: { type: 'number', minimum: 1, maximum: 36500 },
      },
    },
    // Networked speakers fetch each broadcast's audio from the box (drivers/ip-speaker/); absent = text only.
    ip_speakers: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1, maxLength: 253 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        url_host: { type: 'string', pattern: '^[A-Za-z0-9.:\\[\\]-]{1,253}$' },
        render_wait_s: { type: 'number', minimum: 1, maximum: 120 },
        english: { type: 'boolean' },
      },
    },
    // Scheduled self-tests (gateway/schedule/): a cron string each (checked in normalise.ts), or false for off.
    self_tests: {
      type: 'object',
      additionalProperties: false,
      properties: {
        speaker_weekly: selfTestCron,
        siren_monthly: selfTestCron,
        reporting_daily: selfTestCron,
        retry_after_min: { type: 'number', minimum: 1, maximum: 1440 },
        done_within_s: { type: 'number', minimum: 1, maximum: 600 },
        reporting_gap_intervals: { type: 'number', minimum: 1, maximum: 1000 },
      },
    },
    broadcasts: {
      type: 'object',
      additionalProperties: false,
      properties: {
        templates: { type: 'object', propertyNames: id, maxProperties: 100, additionalProperties: templateItem },
      },
    },
    actions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        siren_max_on_s: { type: 'number', minimum: 1, maximum: 600 },
        siren_rest_s: { type: 'number', minimum: 0, maximum: 600 },
        patterns: {
          type: 'object',
          propertyNames: id,
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['steps'],
            properties: {
              steps: { type: 'array', minItems: 1, maxItems: 200, items: { type: 'number', exclusiveMinimum: 0, maximum: 600 } },
              name_zh: text,
              name_en: text,
            },
          },
        },
        level_patterns: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(LEVELS.map((l) => [l, { anyOf: [id, { type: 'null' }] }])),
        },
        all_clear_pattern: { anyOf: [id, { type: 'null' }] },
        fire_pattern: id,
        broadcast_min_level: level,
        broadcast_repeat: { type: 'integer', minimum: 1, maximum: 10 },
        broadcast_max_s: { type: 'number', minimum: 10, maximum: 3600 },
        template_zh: { type: 'string', minLength: 1, maxLength: 500 },
        template_en: { type: 'string', minLength: 1, maxLength: 500 },
      },
    },
  },
} as const;
