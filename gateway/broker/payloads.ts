/**
 * What devices, officers and the township may send to the box over MQTT, as JSON Schemas
 * (Ajv, unknown keys rejected) plus the rules a schema cannot say (units per sensor kind,
 * smoke state names). Every check returns a reason code instead of throwing: a bad payload is
 * logged, counted and dropped, never passed on.
 *
 * Reading (`sensor/<id>/reading`):
 *   `{"value": 12.5 | null | "alarm", "quality"?: "good"|"error"|"missing", "unit"?: "mm", "at"?: "…"}`
 * Command (`cmd/box`): `{"type": "broadcast", "textZh": "…", …}` or `{"type": "broadcast",
 *   "template": "evacuation", …}` (a named broadcast of the site; `textZh` then optional, filling
 *   its `{text}`); `by` and `source` come from
 *   the authenticated account, never from the payload. Keys are camelCase as in
 *   planner/types.ts; their snake_case spellings (`text_zh`) are accepted too, since DESIGN.md
 *   puts snake_case on the wire.
 * Actuator report (`actuator/<id>/report`):
 *   `{"report": "done"|"state"|"fault", "activity"?: "…", "zone"?: "…", "detail"?: {…}}`
 *   (`zone` is accepted but not needed: a `done` frees the reporting speaker, named by its login)
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { AccountRole, SensorConfig } from '../config/types.ts';
import { LEVELS, SMOKE_STATES, type Quality, type Reading } from '../engine/types.ts';
import type { ActuatorReport, BoxCommand } from '../shell/bus.ts';
import type { Command } from '../planner/types.ts';

/** |value| above this is not a measurement but a broken device or an attack. */
export const MAX_ABS_VALUE = 1e9;

export type RejectReason =
  | 'oversize'
  | 'not_json'
  | 'schema'
  | 'not_finite'
  | 'out_of_range'
  | 'wrong_type'
  | 'wrong_unit'
  | 'unknown_state'
  | 'null_value'
  | 'identity_in_payload'
  | 'duplicate_key'
  | 'unknown_sensor'
  | 'unknown_template'
  | 'not_allowed';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; detail: string };

// strictRequired off: a discriminator's top-level `required: ['type']` names a property only the branches define.
const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false, discriminator: true, allowUnionTypes: true });

const id = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' } as const;
const zones = { type: 'array', items: id, minItems: 1, maxItems: 64, uniqueItems: true } as const;
const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength }) as const;
/** An alert or escalation id as the box made it (`rg1/rain/1733300000000`, `…/e1`): no control characters. */
const ref = { type: 'string', minLength: 1, maxLength: 240, pattern: '^[^\\u0000-\\u001f]+$' } as const;
/** The sender's own id for a command, echoed in its result: printable ASCII, no spaces (UUIDs, counters). */
export const MAX_COMMAND_ID = 64;
const commandId = { type: 'string', minLength: 1, maxLength: MAX_COMMAND_ID, pattern: '^[\\x21-\\x7e]+$' } as const;
/** How long a threshold override may last: 1 s (a test) to 7 days (a typhoon's passage). */
export const MAX_OVERRIDE_S = 7 * 24 * 3600;

const readingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['value'],
  properties: {
    value: { type: ['number', 'string', 'null'], maxLength: 32 },
    quality: { enum: ['good', 'error', 'missing'] },
    unit: { type: 'string', maxLength: 16 },
    at: { type: 'string', maxLength: 40 },
  },
} as const;

function branch(type: string, properties: Record<string, unknown>, required: string[] = []): object {
  return { type: 'object', additionalProperties: false, required: ['type', ...required], properties: { type: { const: type }, commandId, ...properties } };
}

/** planner/types.ts `Command` minus `by`/`source` (the broker sets them) and `broadcast_done` (actuators only), plus `ack`. */
const commandSchema = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    // textZh or template (checked after the schema, in words a person reads).
    branch('broadcast', { textZh: text(500), textEn: text(500), template: id, zones, repeat: { type: 'integer', minimum: 1, maximum: 10 }, emergency: { type: 'boolean' }, pattern: id }),
    branch('siren', { pattern: id, zones, emergency: { type: 'boolean' } }, ['pattern']),
    branch('silence', { zones }),
    branch('stop', { zones }),
    branch('drill', { kind: { enum: ['rain', 'water_level', 'smoke', 'fault'] }, level: { enum: [...LEVELS] }, zones }),
    branch('drill_end', {}),
    branch('test', { zones }),
    branch('ack', { alert: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f]+$' } }, ['alert']),
    branch('report', {}),
    branch('set_threshold', { sensor: id, threshold: { type: 'string', pattern: '^[a-z0-9_]{1,40}$' }, value: { type: 'number' }, forS: { type: 'integer', minimum: 1, maximum: MAX_OVERRIDE_S } }, ['sensor', 'threshold', 'value', 'forS']),
    branch('clear_threshold', { sensor: id, threshold: { type: 'string', pattern: '^[a-z0-9_]{1,40}$' } }, ['sensor', 'threshold']),
    branch('escalate', { alert: ref, text: text(280) }, ['alert', 'text']),
    branch('escalation_ack', { escalation: ref, acknowledgedBy: text(64), text: text(280) }, ['escalation']),
  ],
} as const;

/**
 * Who may send what (issue 16). The township's own commands (a status report, a threshold
 * for a time, acknowledging an escalation) are the township's: a threshold is the site's
 * rule, changed by the level that answers for it, and an officer changes it in the config.
 * `escalate` (吹哨) is the officer calling the township: the township does not escalate to
 * itself. Everything else both may send.
 */
const ONLY: Partial<Record<BoxCommand['type'], AccountRole>> = {
  report: 'township',
  set_threshold: 'township',
  clear_threshold: 'township',
  escalation_ack: 'township',
  escalate: 'officer',
};

const reportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['report'],
  properties: {
    report: { enum: ['done', 'state', 'fault'] },
    activity: text(100),
    zone: id,
    detail: { type: 'object' },
  },
} as const;

const validateReading = ajv.compile(readingSchema);
const validateCommand = ajv.compile(commandSchema);
const validateReport = ajv.compile(reportSchema);

function schemaDetail(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'invalid';
  const p = e.params as Record<string, unknown>;
  const extra = e.keyword === 'additionalProperties' ? ` '${String(p.additionalProperty)}'` : e.keyword === 'enum' ? ` (${(p.allowedValues as unknown[]).join(', ')})` : '';
  return `${e.instancePath || '(top)'} ${e.message ?? e.keyword}${extra}`;
}

/** Size, UTF-8 JSON, and a JSON object (not an array or a scalar). */
function parseObject(payload: Buffer, maxBytes: number): Checked<Record<string, unknown>> {
  if (payload.length > maxBytes) return { ok: false, reason: 'oversize', detail: `${payload.length} bytes > ${maxBytes}` };
  let data: unknown;
  try {
    // JSON has no NaN or Infinity literals: `{"value": NaN}` fails here. `1e999` parses to
    // Infinity and is caught below.
    data = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not_json', detail: 'payload is not JSON' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, reason: 'schema', detail: `(top) must be an object, not ${Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data}` };
  }
  return { ok: true, value: data as Record<string, unknown> };
}

/** The unit a sensor reports in, on the wire. */
export function unitOf(sensor: SensorConfig): string {
  switch (sensor.kind) {
    case 'rain':
      return 'mm';
    case 'water_level':
      return 'm';
    case 'smoke':
      return sensor.mode === 'state' ? 'state' : 'db_m';
  }
}

/**
 * A reading from sensor device `sensor`, stamped `at` on the box's monotonic clock (device
 * clocks are not trusted; a payload `at` is checked for shape and otherwise ignored).
 * A non-`good` quality carries no value (an error is a flag, never a number): a number sent with `error` is dropped
 * and the error kept.
 */
export function checkReading(sensor: SensorConfig | undefined, payload: Buffer, maxBytes: number, at: number): Checked<Reading> {
  const parsed = parseObject(payload, maxBytes);
  if (!parsed.ok) return parsed;
  if (!sensor) return { ok: false, reason: 'unknown_sensor', detail: 'no such sensor in the config' };
  const data = parsed.value;
  if (typeof data.value === 'number' && !Number.isFinite(data.value)) return { ok: false, reason: 'not_finite', detail: 'value must be finite' };
  if (!validateReading(data)) return { ok: false, reason: 'schema', detail: schemaDetail(validateReading.errors) };
  const { value, unit } = data as { value: number | string | null; unit?: string };
  const quality: Quality = (data.quality as Quality | undefined) ?? (value === null ? 'error' : 'good');
  const expectedUnit = unitOf(sensor);
  if (unit !== undefined && unit !== expectedUnit) return { ok: false, reason: 'wrong_unit', detail: `unit '${unit}', ${sensor.kind} sensor ${sensor.id} reports '${expectedUnit}'` };
  if (value === null) {
    if (data.quality === undefined || data.quality === 'good') return { ok: false, reason: 'null_value', detail: "value null needs quality 'error' or 'missing'" };
    return { ok: true, value: { sensor: sensor.id, value: null, at, quality } };
  }
  if (quality !== 'good') return { ok: true, value: { sensor: sensor.id, value: null, at, quality } };
  let n: number;
  if (typeof value === 'string') {
    if (sensor.kind !== 'smoke' || sensor.mode !== 'state') return { ok: false, reason: 'wrong_type', detail: `${sensor.kind} value must be a number` };
    n = (SMOKE_STATES as readonly string[]).indexOf(value);
    if (n < 0) return { ok: false, reason: 'unknown_state', detail: `'${value.slice(0, 32)}' is not one of ${SMOKE_STATES.join(', ')}` };
  } else {
    if (Math.abs(value) > MAX_ABS_VALUE) return { ok: false, reason: 'out_of_range', detail: `|value| > ${MAX_ABS_VALUE}` };
    if (sensor.kind === 'smoke' && sensor.mode === 'state' && !(Number.isInteger(value) && value >= 0 && value < SMOKE_STATES.length)) {
      return { ok: false, reason: 'out_of_range', detail: `a state detector sends a state name or 0–${SMOKE_STATES.length - 1}` };
    }
    n = value;
  }
  return { ok: true, value: { sensor: sensor.id, value: n, at, quality } };
}

const camel = (k: string): string => k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

/**
 * A command from an authenticated officer or township account. `templates`: the site's named
 * broadcasts (config `broadcasts.templates`); a broadcast naming another is refused
 * (`unknown_template`). Without it, any template id passes here and the planner refuses it.
 */
export function checkCommand(payload: Buffer, maxBytes: number, by: string, role: AccountRole, templates?: Readonly<Record<string, unknown>>): Checked<BoxCommand> {
  const parsed = parseObject(payload, maxBytes);
  if (!parsed.ok) return parsed;
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed.value)) {
    const key = camel(k);
    if (key in data) return { ok: false, reason: 'duplicate_key', detail: `'${k}' given twice (camelCase and snake_case)` };
    data[key] = v;
  }
  if ('by' in data || 'source' in data) return { ok: false, reason: 'identity_in_payload', detail: "'by' and 'source' come from the account, not the payload" };
  // Before the schema, which would call 1e999 (Infinity) no number at all.
  if (data.type === 'set_threshold' && typeof data.value === 'number' && !(Number.isFinite(data.value) && Math.abs(data.value) <= MAX_ABS_VALUE)) return { ok: false, reason: 'not_finite', detail: `/value must be a finite number within ±${MAX_ABS_VALUE}` };
  if (!validateCommand(data)) return { ok: false, reason: 'schema', detail: schemaDetail(validateCommand.errors) };
  if (data.type === 'broadcast') {
    if (data.textZh === undefined && data.template === undefined) return { ok: false, reason: 'schema', detail: '/textZh is required without a template' };
    const t = data.template;
    if (typeof t === 'string' && templates && !Object.hasOwn(templates, t)) {
      return { ok: false, reason: 'unknown_template', detail: `template: no template '${t}' in this site (templates: ${Object.keys(templates).join(', ')})` };
    }
  }
  const type = data.type as BoxCommand['type'];
  const only = ONLY[type];
  if (only && only !== role) return { ok: false, reason: 'not_allowed', detail: `'${type}' is for the ${only} account only; this is a${role === 'officer' ? 'n' : ''} ${role} account` };
  const source = role === 'township' ? 'township' : 'officer';
  switch (data.type) {
    case 'ack':
      return { ok: true, value: { type: 'ack', alert: data.alert as string, by, ...(data.commandId === undefined ? {} : { commandId: data.commandId as string }) } };
    case 'broadcast':
    case 'siren':
      return { ok: true, value: { ...data, source, by } as Command };
    default:
      return { ok: true, value: { ...data, by } as Command };
  }
}

/**
 * The `command_id` of a command payload, as far as it can be read: for the result of a command
 * the check refused (a malformed one still names itself when it can). Null when there is none,
 * or it is no valid id.
 */
export function commandIdOf(payload: Buffer, maxBytes: number): string | null {
  const parsed = parseObject(payload, maxBytes);
  if (!parsed.ok) return null;
  const v = parsed.value.command_id ?? parsed.value.commandId;
  return typeof v === 'string' && v.length <= MAX_COMMAND_ID && /^[\x21-\x7e]+$/.test(v) ? v : null;
}

/** A report from actuator device `actuator`. */
export function checkReport(actuator: string, payload: Buffer, maxBytes: number): Checked<ActuatorReport> {
  const parsed = parseObject(payload, maxBytes);
  if (!parsed.ok) return parsed;
  if (!validateReport(parsed.value)) return { ok: false, reason: 'schema', detail: schemaDetail(validateReport.errors) };
  return { ok: true, value: { actuator, ...(parsed.value as Omit<ActuatorReport, 'actuator'>) } };
}

/** A device's own status (and its will): any payload up to the size limit. */
export function checkDeviceStatus(payload: Buffer, maxBytes: number): Checked<Buffer> {
  if (payload.length > maxBytes) return { ok: false, reason: 'oversize', detail: `${payload.length} bytes > ${maxBytes}` };
  return { ok: true, value: payload };
}
