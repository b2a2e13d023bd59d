/**
 * JSON Schema of a device profile file (hardware/profiles/<model>.yaml), snake_case as written.
 * Ajv checks the shape with every error at once; drivers/modbus/profiles.ts adds the rules a schema
 * cannot say (overlaps, references between registers, exactly one `feeds` per sensor kind).
 */
import { ROLES, VALUE_TYPES } from './profile-types.ts';

const address = { type: 'integer', minimum: 0, maximum: 65535 } as const;
const name = { type: 'string', pattern: '^[a-z][a-z0-9_]*$' } as const;
const text = { type: 'string' } as const;
const positive = { type: 'number', exclusiveMinimum: 0 } as const;
/** `{ "1": 0.01 }`: YAML integer keys arrive as strings. */
const numericMap = (values: object) => ({
  type: 'object',
  propertyNames: { pattern: '^-?[0-9]+$' },
  additionalProperties: values,
  minProperties: 1,
});

const register = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'table', 'address', 'type'],
  properties: {
    name,
    table: { enum: ['coil', 'discrete', 'input', 'holding'] },
    address,
    type: { enum: [...VALUE_TYPES] },
    scale: { type: 'number', not: { const: 0 } },
    unit: text,
    feeds: { type: 'boolean' },
    role: { enum: [...ROLES] },
    counter_modulus: { type: 'integer', minimum: 0, maximum: 4294967296 },
    decimals_from: name,
    unit_from: name,
    valid_when_zero: name,
    unit_codes: numericMap(positive),
    map: numericMap({ type: 'number' }),
    once: { type: 'boolean' },
    writable: { type: 'boolean' },
    default: { type: ['number', 'boolean'] },
    description: text,
  },
} as const;

const action = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'table', 'address'],
  properties: {
    name,
    table: { enum: ['coil', 'holding'] },
    address,
    encoding: { enum: ['coil', 'raw'] },
    value: { type: ['number', 'boolean', 'null'] },
    value_scale: positive,
    value_base: { type: 'integer', minimum: 0, maximum: 65535 },
    value_unit: text,
    value_min: { type: 'number' },
    value_max: { type: 'number' },
    confirm: name,
    state: { type: 'boolean' },
    pulse: {
      type: 'object',
      additionalProperties: false,
      required: ['state', 'unit_ms'],
      properties: { state: { type: 'boolean' }, unit_ms: positive },
    },
    description: text,
  },
} as const;

const golden = {
  type: 'object',
  additionalProperties: false,
  required: ['register', 'words', 'value'],
  properties: {
    register: name,
    words: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'integer', minimum: 0, maximum: 65535 } },
    value: { type: ['number', 'boolean'] },
    decimals: { type: 'integer', minimum: 0 },
    unit_code: { type: 'integer' },
  },
} as const;

const goldenWrite = {
  type: 'object',
  additionalProperties: false,
  required: ['action', 'words'],
  properties: {
    action: name,
    value: { type: 'number' },
    words: { type: 'array', minItems: 1, maxItems: 1, items: { type: 'integer', minimum: 0, maximum: 65535 } },
  },
} as const;

export const profileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'manufacturer', 'kind', 'source', 'bus', 'registers', 'golden'],
  properties: {
    name: { type: 'string', minLength: 1 },
    manufacturer: { type: 'string', minLength: 1 },
    kind: { enum: ['rain', 'water_level', 'smoke', 'siren', 'node'] },
    source: { type: 'string', minLength: 20 },
    bus: {
      type: 'object',
      additionalProperties: false,
      required: ['baud', 'parity', 'data_bits', 'stop_bits', 'default_unit'],
      properties: {
        baud: { enum: [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] },
        parity: { enum: ['none', 'even', 'odd'] },
        data_bits: { enum: [7, 8] },
        stop_bits: { enum: [1, 2] },
        default_unit: { type: 'integer', minimum: 1, maximum: 247 },
      },
    },
    registers: { type: 'array', minItems: 1, items: register },
    actions: { type: 'array', items: action },
    golden: { type: 'array', minItems: 1, items: golden },
    golden_writes: { type: 'array', items: goldenWrite },
  },
} as const;
