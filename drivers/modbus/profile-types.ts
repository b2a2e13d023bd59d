/**
 * A device is data: one file per device model in hardware/profiles/ lists its bus parameters,
 * registers and write actions (STYLE.md; zigbee-herdsman-converters, evcc templates, ESPHome's
 * Modbus value types). This is the effective, validated shape the drivers use; the YAML files
 * spell the same keys in snake_case (`counter_modulus`, `decimals_from`, …) and
 * drivers/modbus/profiles.ts turns them into this.
 */

/** Modbus tables, 0-based addresses on the wire (Modbus Application Protocol V1.1b3 §4.4). */
export type Table = 'coil' | 'discrete' | 'input' | 'holding';

/**
 * Value types. Word order is explicit in the name: `_LE` = low word first (as DFRobot and many
 * Chinese gauges send 32-bit values); no suffix = high word first (Modbus big-endian).
 * Bytes inside a word are always big-endian (the Modbus rule). `S_` types are two's complement.
 * `FLOAT32` is IEEE 754 single precision; NaN and ±Infinity are refused by `decode` (a device
 * that sends them has no value to give, and a failed read is never a number).
 */
export const VALUE_TYPES = ['BOOL', 'U_WORD', 'S_WORD', 'U_DWORD', 'U_DWORD_LE', 'S_DWORD', 'S_DWORD_LE', 'FLOAT32', 'FLOAT32_LE'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

/** How many 16-bit registers (or bits, for BOOL) a type occupies. */
export function typeWidth(t: ValueType): number {
  return t === 'BOOL' || t === 'U_WORD' || t === 'S_WORD' ? 1 : 2;
}

/** The reading kinds a register can feed (the engine's `SensorKind`). */
export const SENSOR_KINDS = ['rain', 'water_level', 'smoke'] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];

/**
 * What a register is for inside a multi-role device (`kind: node`): a sensor kind it can feed,
 * the siren it drives, the device's health, or its configuration. Single-purpose profiles may
 * leave it null; the profile's `kind` says it all.
 */
export const ROLES = ['rain', 'water_level', 'smoke', 'siren', 'health', 'config'] as const;
export type Role = (typeof ROLES)[number];

export interface RegisterDef {
  name: string;
  table: Table;
  address: number;
  type: ValueType;
  /**
   * Engineering value = raw × 10^-decimals × unit factor × scale, in `unit`. For `map`
   * registers the map gives the engineering value and scale is not applied.
   */
  scale: number;
  unit: string;
  /** This register is the reading the engine gets for the sensor (exactly one per sensor kind). */
  feeds: boolean;
  /** For `kind: node` profiles: which role the register belongs to (see `Role`). */
  role: Role | null;
  /** The raw counter wraps at this value (for cumulative counters); 0 = not a counter. */
  counterModulus: number;
  /** Name of a register holding a decimal-places count applied as 10^-n (e.g. QDY30A). */
  decimalsFrom: string | null;
  /** Name of a register holding a unit code; `unitCodes` turns it into a factor to `unit`. */
  unitFrom: string | null;
  /**
   * A status register read with this one: the value is valid only while it reads 0 (our node's
   * `level_status`: a broken 4–20 mA loop gives a clamped number that must not pass as a level).
   */
  validWhenZero: string | null;
  /** Unit code (as a decimal string) → factor to `unit`; a code not listed is an error. */
  unitCodes: Record<string, number> | null;
  /** Raw value (as a decimal string) → engineering value, for status words; unlisted = error. */
  map: Record<string, number> | null;
  /** Read once when the device is first reached (configuration), not every poll. */
  once: boolean;
  /** FC05/FC06/FC15/FC16 may write it (coils and holding registers only). */
  writable: boolean;
  /** Factory default as an engineering value; simulators start from it (0 / false when null). */
  default: number | boolean | null;
  description: string;
}

/**
 * A write an actuator profile offers: FC05 (coil) or FC06 (holding) with a fixed or given value
 * (drivers/modbus/write-action.ts picks the function code). `encoding: coil` is the standard FC05
 * (true → 0xFF00, false → 0x0000); `encoding: raw` puts a 16-bit number into FC05's value field,
 * a vendor extension (Waveshare's flash commands), or is the FC06 value of a holding write.
 */
export interface ActionDef {
  name: string;
  table: 'coil' | 'holding';
  address: number;
  encoding: 'coil' | 'raw';
  /** Fixed value to write, or null when the caller gives it (e.g. a flash duration). */
  value: number | boolean | null;
  /** For caller values: raw = valueBase + round(value / valueScale), e.g. 0.1 s per count. */
  valueScale: number;
  /**
   * Added to a caller value's count: boards that put a command in the high byte and its argument
   * in the low byte (R421A08 delay: 0x0600 + seconds). 0 for most.
   */
  valueBase: number;
  valueUnit: string;
  /** Bounds of a caller value in engineering units (inclusive), null for fixed values. */
  valueMin: number | null;
  valueMax: number | null;
  /** Register to read back to confirm the write, if any. */
  confirm: string | null;
  /**
   * What `confirm` reads (as a bit) once the write is done, when the value written is a command
   * rather than the state itself (R421A08: 0x0100 to register 1 → register 1 reads 1). Null for
   * a plain coil write, whose value is the state.
   */
  state: boolean | null;
  /**
   * The device itself times this write: `confirm` becomes `state` at once and returns to
   * `!state` after raw × `unitMs` ms (Waveshare flash-on: on, then off by itself).
   */
  pulse: { state: boolean; unitMs: number } | null;
  description: string;
}

export interface BusParams {
  baud: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
  defaultUnit: number;
}

/** One golden vector: these raw words (or bits) must decode to `value`. */
export interface GoldenVector {
  register: string;
  words: number[];
  value: number | boolean;
  /** Context for `decimalsFrom` / `unitFrom` registers: the decimals and unit code in force. */
  decimals: number | null;
  unitCode: number | null;
}

/** One golden write: action `action`, given `value` (null for a fixed one), writes these words. */
export interface GoldenWrite {
  action: string;
  value: number | null;
  words: number[];
}

export interface DeviceProfile {
  /** File name without extension, e.g. `xunchip-xm9505`. */
  model: string;
  name: string;
  manufacturer: string;
  /** Where the register map comes from (manual, section, page) and what is assumed. */
  source: string;
  /** The reading kind a sensor profile feeds, or `siren` for a relay used as a siren driver. */
  kind: 'rain' | 'water_level' | 'smoke' | 'siren' | 'node';
  bus: BusParams;
  registers: RegisterDef[];
  actions: ActionDef[];
  /** Golden vectors: raw words (or bits) → engineering value, checked by the profile test. */
  golden: GoldenVector[];
  /** Golden writes: what each action puts on the wire, from the device's manual. */
  goldenWrites: GoldenWrite[];
}
