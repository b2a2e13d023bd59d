/**
 * Loads and validates device profiles (hardware/profiles/<model>.yaml). Every problem of every
 * file comes back at once as `file: path: message (line N)` (STYLE.md: config is one schema, Ajv
 * allErrors); the rules a schema cannot say are checked here: overlapping addresses (by type
 * width), references between registers, exactly one `feeds` register per sensor kind.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { profileSchema } from './profile-schema.ts';
import { SENSOR_KINDS, typeWidth, type ActionDef, type DeviceProfile, type GoldenVector, type RegisterDef } from './profile-types.ts';

/** hardware/profiles/ of this checkout. */
export const PROFILE_DIR = fileURLToPath(new URL('../../hardware/profiles/', import.meta.url));

export interface ProfileProblem {
  /** `registers[3].address`, or '' for the whole file. */
  path: string;
  message: string;
}

export class ProfileError extends Error {
  readonly code = 'E_PROFILE';
  /** Every problem found, formatted `file: path: message`. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`${problems.length} device profile problem(s)\n${problems.join('\n')}`);
    this.name = 'ProfileError';
    this.problems = problems;
  }
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateShape = ajv.compile(profileSchema);

const toPath = (segments: string[]): string =>
  segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');

function explain(e: ErrorObject): ProfileProblem {
  const segments = e.instancePath.split('/').slice(1);
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return { path: toPath([...segments, String(p.additionalProperty)]), message: 'unknown key' };
  if (e.keyword === 'required') return { path: toPath([...segments, String(p.missingProperty)]), message: 'is required' };
  if (e.keyword === 'enum') return { path: toPath(segments), message: `must be one of ${(p.allowedValues as unknown[]).join(', ')}` };
  return { path: toPath(segments), message: e.message ?? e.keyword };
}

function lineOf(doc: Document, lines: LineCounter, path: string): number | null {
  const segments = path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
  for (let n = segments.length; n >= 0; n--) {
    const keys = segments.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const node = n === 0 ? doc.contents : doc.getIn(keys, true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return null;
}

type Raw = Record<string, any>;

function normaliseRegister(r: Raw): RegisterDef {
  return {
    name: r.name,
    table: r.table,
    address: r.address,
    type: r.type,
    scale: r.scale ?? 1,
    unit: r.unit ?? '',
    feeds: r.feeds ?? false,
    role: r.role ?? null,
    counterModulus: r.counter_modulus ?? 0,
    decimalsFrom: r.decimals_from ?? null,
    unitFrom: r.unit_from ?? null,
    validWhenZero: r.valid_when_zero ?? null,
    unitCodes: r.unit_codes ?? null,
    map: r.map ?? null,
    once: r.once ?? false,
    writable: r.writable ?? (r.table === 'coil' || r.table === 'holding'),
    default: r.default ?? null,
    description: r.description ?? '',
  };
}

function normaliseAction(a: Raw): ActionDef {
  return {
    name: a.name,
    table: a.table,
    address: a.address,
    encoding: a.encoding ?? (a.table === 'coil' ? 'coil' : 'raw'),
    value: a.value ?? null,
    valueScale: a.value_scale ?? 1,
    valueBase: a.value_base ?? 0,
    valueUnit: a.value_unit ?? '',
    valueMin: a.value_min ?? null,
    valueMax: a.value_max ?? null,
    confirm: a.confirm ?? null,
    state: a.state ?? null,
    pulse: a.pulse ? { state: a.pulse.state, unitMs: a.pulse.unit_ms } : null,
    description: a.description ?? '',
  };
}

function normaliseGolden(g: Raw): GoldenVector {
  return { register: g.register, words: g.words, value: g.value, decimals: g.decimals ?? null, unitCode: g.unit_code ?? null };
}

/** Registers of one table whose address ranges (address … address + width − 1) overlap. */
export function findOverlaps(registers: readonly RegisterDef[]): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  registers.forEach((a, i) => {
    const aEnd = a.address + typeWidth(a.type) - 1;
    registers.forEach((b, j) => {
      if (j <= i || a.table !== b.table) return;
      const bEnd = b.address + typeWidth(b.type) - 1;
      if (a.address <= bEnd && b.address <= aEnd) {
        problems.push({ path: `registers[${j}].address`, message: `${b.name} (${b.table} ${b.address}…${bEnd}) overlaps ${a.name} (${a.address}…${aEnd})` });
      }
    });
  });
  return problems;
}

function checkRegisters(p: DeviceProfile, problems: ProfileProblem[]): void {
  const byName = new Map<string, RegisterDef>();
  p.registers.forEach((r, i) => {
    const at = (key: string, message: string) => problems.push({ path: `registers[${i}].${key}`, message });
    if (byName.has(r.name)) at('name', `${r.name} is defined twice`);
    byName.set(r.name, r);
    const bits = r.table === 'coil' || r.table === 'discrete';
    if (bits !== (r.type === 'BOOL')) at('type', bits ? `a ${r.table} is BOOL` : `BOOL lives in coils or discrete inputs, not ${r.table} registers`);
    if (r.address + typeWidth(r.type) - 1 > 65535) at('address', `${r.type} at ${r.address} runs past 65535`);
    if (r.writable && (r.table === 'input' || r.table === 'discrete')) at('writable', `${r.table} tables are read-only in Modbus`);
    if (r.counterModulus > 0 && (r.type === 'BOOL' || r.counterModulus > 2 ** (16 * typeWidth(r.type)))) at('counter_modulus', `${r.counterModulus} does not fit a ${r.type}`);
    if (r.map && (r.type === 'BOOL' || r.type.startsWith('FLOAT'))) at('map', 'a map needs an integer type');
    if (r.feeds && r.once) at('once', 'a register that feeds a reading is polled, not read once');
    if ((r.unitFrom === null) !== (r.unitCodes === null)) at(r.unitFrom ? 'unit_codes' : 'unit_from', 'unit_from and unit_codes go together');
    if (p.kind === 'node' && r.role === null) at('role', 'every register of a node profile has a role');
  });
  p.registers.forEach((r, i) => {
    if (r.validWhenZero && !byName.has(r.validWhenZero)) problems.push({ path: `registers[${i}].valid_when_zero`, message: `no register named ${r.validWhenZero}` });
    for (const [key, ref] of [['decimals_from', r.decimalsFrom], ['unit_from', r.unitFrom]] as const) {
      if (ref === null) continue;
      const target = byName.get(ref);
      if (!target) problems.push({ path: `registers[${i}].${key}`, message: `no register named ${ref}` });
      else if (target.type !== 'U_WORD' || target.decimalsFrom || target.map) {
        problems.push({ path: `registers[${i}].${key}`, message: `${ref} must be a plain U_WORD register` });
      }
    }
  });
  problems.push(...findOverlaps(p.registers));
}

function checkFeeds(p: DeviceProfile, problems: ProfileProblem[]): void {
  const feeding = p.registers.map((r, i) => ({ r, i })).filter(({ r }) => r.feeds);
  if (p.kind === 'siren') {
    for (const { i } of feeding) problems.push({ path: `registers[${i}].feeds`, message: 'a siren profile feeds no reading' });
    return;
  }
  const kinds = p.kind === 'node' ? SENSOR_KINDS.filter((k) => p.registers.some((r) => r.role === k)) : [p.kind];
  for (const { r, i } of feeding) {
    const kind = p.kind === 'node' ? r.role : p.kind;
    if (!(SENSOR_KINDS as readonly (string | null)[]).includes(kind) || (p.kind !== 'node' && r.role !== null && r.role !== p.kind)) {
      problems.push({ path: `registers[${i}].feeds`, message: `${r.name} cannot feed a reading of role ${String(r.role ?? kind)}` });
    }
  }
  for (const kind of kinds) {
    const n = feeding.filter(({ r }) => (p.kind === 'node' ? r.role === kind : true)).length;
    if (n !== 1) problems.push({ path: 'registers', message: `exactly one register must feed the ${kind} reading (found ${n})` });
  }
}

function checkActions(p: DeviceProfile, problems: ProfileProblem[]): void {
  const names = new Set<string>();
  p.actions.forEach((a, i) => {
    const at = (key: string, message: string) => problems.push({ path: `actions[${i}].${key}`, message });
    if (names.has(a.name)) at('name', `${a.name} is defined twice`);
    names.add(a.name);
    const confirm = a.confirm === null ? null : p.registers.find((r) => r.name === a.confirm);
    if (a.confirm !== null && !confirm) at('confirm', `no register named ${a.confirm}`);
    if (a.table === 'holding' && a.encoding === 'coil') at('encoding', 'FC06 writes a raw 16-bit value');
    if (a.encoding === 'coil' && a.value !== null && typeof a.value !== 'boolean') at('value', 'a coil write is true or false');
    if (a.encoding === 'raw' && a.value !== null && (typeof a.value !== 'number' || !Number.isInteger(a.value) || a.value < 0 || a.value > 65535)) {
      at('value', 'a raw write is an integer 0…65535');
    }
    if (a.value === null && (a.valueMin === null || a.valueMax === null)) at('value_min', 'a value the caller gives needs value_min and value_max');
    if (a.valueMin !== null && a.valueMax !== null) {
      if (a.valueMin > a.valueMax) at('value_min', 'is above value_max');
      if (a.encoding === 'raw' && (a.valueMin / a.valueScale < 0 || a.valueBase + Math.round(a.valueMax / a.valueScale) > 65535)) at('value_max', 'does not fit 16 bits at value_scale (with value_base)');
    }
    if (a.valueBase !== 0 && (a.value !== null || a.encoding !== 'raw')) at('value_base', 'only a raw write of a caller value has a base');
    const bit = confirm !== null && confirm !== undefined && (confirm.table === 'coil' || confirm.type === 'U_WORD');
    // A holding write is a command word, not the state: say what the relay reads afterwards.
    if (a.table === 'holding' && confirm && !a.pulse && a.state === null) at('state', 'a holding-register command needs the state its confirm register reads afterwards');
    if (a.state !== null && !bit) at('state', 'state is read back from a coil or a U_WORD register named in confirm');
    if (a.state !== null && a.encoding === 'coil' && a.value !== null && a.value !== a.state) at('state', 'a plain coil write leaves the coil at the value written');
    if (a.pulse) {
      if (a.encoding !== 'raw' || !bit) at('pulse', 'a pulse is a raw write timing a coil or a U_WORD register named in confirm');
      if (a.value !== null || a.valueUnit !== 's' || Math.abs(a.valueScale * 1000 - a.pulse.unitMs) > 1e-9) at('pulse', 'a pulse takes its time from the caller in s, one count = value_scale s = unit_ms');
    }
  });
}

function checkGolden(p: DeviceProfile, problems: ProfileProblem[]): void {
  p.golden.forEach((g, i) => {
    const r = p.registers.find((x) => x.name === g.register);
    if (!r) return void problems.push({ path: `golden[${i}].register`, message: `no register named ${g.register}` });
    if (g.words.length !== typeWidth(r.type)) problems.push({ path: `golden[${i}].words`, message: `${r.type} takes ${typeWidth(r.type)} word(s)` });
    if (r.decimalsFrom && g.decimals === null) problems.push({ path: `golden[${i}].decimals`, message: `${r.name} needs the decimals in force` });
    if (r.unitFrom && g.unitCode === null) problems.push({ path: `golden[${i}].unit_code`, message: `${r.name} needs the unit code in force` });
  });
}

function checkGoldenWrites(p: DeviceProfile, problems: ProfileProblem[]): void {
  p.goldenWrites.forEach((g, i) => {
    const a = p.actions.find((x) => x.name === g.action);
    if (!a) return void problems.push({ path: `golden_writes[${i}].action`, message: `no action named ${g.action}` });
    if ((a.value === null) !== (g.value !== null)) problems.push({ path: `golden_writes[${i}].value`, message: a.value === null ? `${a.name} needs the value given` : `${a.name} writes a fixed value` });
  });
  const missing = p.actions.filter((a) => a.encoding === 'raw' && !p.goldenWrites.some((g) => g.action === a.name));
  for (const a of missing) problems.push({ path: 'golden_writes', message: `raw action ${a.name} needs a golden write from the manual` });
}

/** Cross-field checks on a profile already in shape; [] when it is sound. */
export function validateProfile(p: DeviceProfile): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(p.model)) problems.push({ path: '', message: `file name ${p.model} must be kebab-case` });
  checkRegisters(p, problems);
  checkFeeds(p, problems);
  checkActions(p, problems);
  checkGolden(p, problems);
  checkGoldenWrites(p, problems);
  return problems;
}

/** Parses profile text; never throws for bad input: problems come back as data. */
export function parseProfile(text: string, model: string): { profile: DeviceProfile | null; problems: ProfileProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    return { profile: null, problems: doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0]} (line ${lines.linePos(e.pos[0]).line})` })) };
  }
  const withLine = (q: ProfileProblem): ProfileProblem => {
    const line = lineOf(doc, lines, q.path);
    return line === null ? q : { ...q, message: `${q.message} (line ${line})` };
  };
  const raw = doc.toJS() as Raw;
  if (!validateShape(raw)) {
    const seen = new Set<string>();
    const problems = (validateShape.errors ?? []).map(explain).map(withLine);
    return { profile: null, problems: problems.filter((q) => !seen.has(`${q.path}|${q.message}`) && !!seen.add(`${q.path}|${q.message}`)) };
  }
  const profile: DeviceProfile = {
    model,
    name: raw.name,
    manufacturer: raw.manufacturer,
    source: raw.source,
    kind: raw.kind,
    bus: { baud: raw.bus.baud, parity: raw.bus.parity, dataBits: raw.bus.data_bits, stopBits: raw.bus.stop_bits, defaultUnit: raw.bus.default_unit },
    registers: (raw.registers as Raw[]).map(normaliseRegister),
    actions: (((raw as Raw).actions ?? []) as Raw[]).map(normaliseAction),
    golden: (raw.golden as Raw[]).map(normaliseGolden),
    goldenWrites: (((raw as Raw).golden_writes ?? []) as Raw[]).map((g) => ({ action: g.action, value: g.value ?? null, words: g.words })),
  };
  const problems = validateProfile(profile).map(withLine);
  return { profile: problems.length ? null : profile, problems };
}

const format = (file: string, q: ProfileProblem) => `${file}: ${q.path ? `${q.path}: ` : ''}${q.message}`;

/** Loads one profile file; throws `ProfileError` listing every problem. */
export function loadProfile(file: string): DeviceProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ProfileError([`${file}: cannot read (${(err as Error).message})`]);
  }
  const { profile, problems } = parseProfile(text, basename(file, extname(file)));
  if (!profile) throw new ProfileError(problems.map((q) => format(file, q)));
  return profile;
}

/** Loads every `*.yaml` / `*.yml` in `dir`, sorted by model; one `ProfileError` lists all problems. */
export function loadAllProfiles(dir: string = PROFILE_DIR): DeviceProfile[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (err) {
    throw new ProfileError([`${dir}: cannot list (${(err as Error).message})`]);
  }
  const profiles: DeviceProfile[] = [];
  const problems: string[] = [];
  for (const f of files) {
    try {
      profiles.push(loadProfile(join(dir, f)));
    } catch (err) {
      if (err instanceof ProfileError) problems.push(...err.problems);
      else throw err;
    }
  }
  const models = profiles.map((p) => p.model);
  models.forEach((m, i) => models.indexOf(m) !== i && problems.push(`${dir}: model ${m} is defined twice (.yaml and .yml)`));
  if (problems.length) throw new ProfileError(problems);
  return profiles;
}

/** The register of a profile by name, or throws (a typo in code, not in data). */
export function registerOf(profile: DeviceProfile, name: string): RegisterDef {
  const r = profile.registers.find((x) => x.name === name);
  if (!r) throw new Error(`${profile.model} has no register ${name}`);
  return r;
}
