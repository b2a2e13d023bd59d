// drivers/modbus/profiles.ts: the real profiles load; broken ones report every problem at once,
// as `file: path: message (line N)`, for the schema and for the cross-field rules.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProfileError, findOverlaps, loadAllProfiles, parseProfile } from '../../drivers/modbus/profiles.ts';

const HEAD = `
name: Test gauge
manufacturer: Test
kind: rain
source: a test profile written for this unit test only
bus: { baud: 9600, parity: none, data_bits: 8, stop_bits: 1, default_unit: 1 }
`;

function problems(body: string, kindLine = ''): string[] {
  const { profile, problems } = parseProfile(HEAD.replace('kind: rain', kindLine || 'kind: rain') + body, 'test-gauge');
  if (problems.length) expect(profile).toBeNull();
  return problems.map((p) => `${p.path}: ${p.message}`);
}

const GOOD = `
registers:
  - { name: total, table: input, address: 8, type: U_DWORD_LE, scale: 0.0001, unit: mm, feeds: true, counter_modulus: 4294967296 }
  - { name: decimals, table: holding, address: 3, type: U_WORD }
golden:
  - { register: total, words: [0x86A0, 0x0001], value: 10 }
`;

describe('profiles in hardware/profiles', () => {
  const profiles = loadAllProfiles();
  it('load, one per model, each saying where its map comes from', () => {
    expect(profiles.map((p) => p.model)).toEqual(['dfrobot-sen0575', 'qdy30a', 'r421a08-relay', 'shaobing-node', 'waveshare-modbus-rtu-relay', 'xunchip-xm9505']);
    for (const p of profiles) expect(p.source.length).toBeGreaterThan(100);
  });

  it('normalise snake_case into the effective shape with defaults', () => {
    const relay = profiles.find((p) => p.model === 'waveshare-modbus-rtu-relay');
    const flash = relay?.actions.find((a) => a.name === 'flash_on');
    expect(flash).toMatchObject({ address: 0x0200, encoding: 'raw', value: null, valueScale: 0.1, confirm: 'relay_1', pulse: { state: true, unitMs: 100 } });
    expect(relay?.actions.find((a) => a.name === 'siren_on')).toMatchObject({ encoding: 'coil', value: true, confirm: 'relay_1' });
    const qdy = profiles.find((p) => p.model === 'qdy30a');
    expect(qdy?.registers.find((r) => r.name === 'level')).toMatchObject({ decimalsFrom: 'decimals', unitFrom: 'unit_code', unitCodes: { '1': 0.01, '2': 0.001 }, writable: false });
    expect(qdy?.registers.find((r) => r.name === 'unit_code')).toMatchObject({ once: true, writable: true, scale: 1 });
  });

  it('a node feeds one register per sensor role', () => {
    const node = profiles.find((p) => p.model === 'shaobing-node');
    const feeds = node?.registers.filter((r) => r.feeds).map((r) => `${r.role}:${r.name}`);
    expect(feeds).toEqual(['rain:rain_total_mm', 'water_level:level', 'smoke:smoke_status']);
  });
});

describe('parseProfile', () => {
  it('accepts a sound profile', () => {
    expect(problems(GOOD)).toEqual([]);
  });

  it('reports every schema problem at once, with lines', () => {
    const found = problems(`
registers:
  - { name: total, table: input, address: 70000, type: U_DWORD_LE, feeds: true, colour: red }
  - { name: Bad-Name, table: tables, address: 1, type: INT99 }
golden: []
`);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^registers\[0\]\.address: must be <= 65535 \(line \d+\)$/),
        expect.stringMatching(/^registers\[0\]\.colour: unknown key/),
        expect.stringMatching(/^registers\[1\]\.name: must match/),
        expect.stringMatching(/^registers\[1\]\.table: must be one of coil, discrete, input, holding/),
        expect.stringMatching(/^registers\[1\]\.type: must be one of BOOL/),
        expect.stringMatching(/^golden: must NOT have fewer than 1 items/),
      ]),
    );
  });

  it('reports every cross-field problem at once', () => {
    const found = problems(`
registers:
  - { name: total, table: input, address: 8, type: U_DWORD, feeds: true }
  - { name: high, table: input, address: 9, type: U_WORD, feeds: true }
  - { name: level, table: holding, address: 4, type: S_WORD, decimals_from: nowhere }
  - { name: edge, table: holding, address: 65535, type: U_DWORD }
  - { name: flag, table: holding, address: 10, type: BOOL }
  - { name: ro, table: input, address: 20, type: U_WORD, writable: true }
  - { name: wrap, table: input, address: 21, type: U_WORD, counter_modulus: 65537 }
actions:
  - { name: go, table: coil, address: 512, encoding: raw, value: null, confirm: ghost }
golden:
  - { register: missing, words: [1], value: 1 }
  - { register: total, words: [1], value: 1 }
`);
    expect(found).toEqual(
      expect.arrayContaining([
        'registers[1].address: high (input 9…9) overlaps total (8…9)',
        'registers[2].decimals_from: no register named nowhere',
        'registers[3].address: U_DWORD at 65535 runs past 65535',
        'registers[4].type: BOOL lives in coils or discrete inputs, not holding registers',
        'registers[5].writable: input tables are read-only in Modbus',
        'registers[6].counter_modulus: 65537 does not fit a U_WORD',
        'registers: exactly one register must feed the rain reading (found 2)',
        'actions[0].confirm: no register named ghost',
        'actions[0].value_min: a value the caller gives needs value_min and value_max',
        'golden[0].register: no register named missing',
        'golden[1].words: U_DWORD takes 2 word(s)',
      ].map((s) => expect.stringContaining(s))),
    );
  });

  it('wants exactly one feeds register for a sensor, none for a siren, a role for every node register', () => {
    expect(problems(GOOD.replace(', feeds: true', ''))).toEqual([expect.stringContaining('exactly one register must feed the rain reading (found 0)')]);
    expect(problems(GOOD, 'kind: siren')).toEqual([expect.stringContaining('a siren profile feeds no reading')]);
    expect(problems(GOOD, 'kind: node')).toEqual(
      expect.arrayContaining([expect.stringContaining('every register of a node profile has a role'), expect.stringContaining('total cannot feed')]),
    );
  });

  it('wants the decimals and unit code in force for golden vectors that need them', () => {
    const found = problems(`
registers:
  - { name: level, table: holding, address: 4, type: S_WORD, unit: m, feeds: true, decimals_from: decimals, unit_from: unit_code, unit_codes: { 1: 0.01 } }
  - { name: decimals, table: holding, address: 3, type: U_WORD }
  - { name: unit_code, table: holding, address: 2, type: U_WORD }
golden:
  - { register: level, words: [1], value: 0.01 }
`);
    expect(found).toEqual([expect.stringContaining('golden[0].decimals: level needs the decimals in force'), expect.stringContaining('golden[0].unit_code: level needs the unit code in force')]);
  });

  it('holding-register commands say what they leave, and every raw action has a golden write', () => {
    const relay = `
registers:
  - { name: relay_1, table: holding, address: 1, type: U_WORD, writable: false }
  - { name: spare, table: coil, address: 0, type: BOOL }
golden:
  - { register: relay_1, words: [1], value: 1 }
`;
    const found = problems(`${relay}actions:
  - { name: siren_on, table: holding, address: 1, value: 0x0100, confirm: relay_1 }
  - { name: siren_off, table: coil, address: 0, value: false, confirm: spare, state: true }
  - { name: flash_on, table: holding, address: 1, value: null, value_base: 0xFF00, value_scale: 0.1, value_unit: ms, value_min: 1, value_max: 255, confirm: relay_1, pulse: { state: true, unit_ms: 1000 } }
  - { name: fixed, table: holding, address: 1, value: 7, value_base: 0x0100, confirm: relay_1, state: true }
golden_writes:
  - { action: siren_on, value: 3, words: [0x0100] }
  - { action: ghost, words: [1] }
`, 'kind: siren');
    expect(found).toEqual(
      expect.arrayContaining([
        'actions[0].state: a holding-register command needs the state its confirm register reads afterwards',
        'actions[1].state: a plain coil write leaves the coil at the value written',
        'actions[2].value_max: does not fit 16 bits at value_scale (with value_base)',
        'actions[2].pulse: a pulse takes its time from the caller in s, one count = value_scale s = unit_ms',
        'actions[3].value_base: only a raw write of a caller value has a base',
        'golden_writes[0].value: siren_on writes a fixed value',
        'golden_writes[1].action: no action named ghost',
        'golden_writes: raw action flash_on needs a golden write from the manual',
      ].map((x) => expect.stringContaining(x))),
    );
    const good = problems(`${relay}actions:
  - { name: siren_on, table: holding, address: 1, value: 0x0100, confirm: relay_1, state: true }
  - { name: flash_on, table: holding, address: 1, value: null, value_base: 0x0600, value_scale: 1, value_unit: s, value_min: 1, value_max: 255, confirm: relay_1, pulse: { state: true, unit_ms: 1000 } }
golden_writes:
  - { action: siren_on, words: [0x0100] }
  - { action: flash_on, value: 5, words: [0x0605] }
`, 'kind: siren');
    expect(good).toEqual([]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('registers: [ {name: x\n')[0]).toMatch(/^: YAML: .*\(line \d+\)$/);
  });
});

describe('findOverlaps', () => {
  it('takes the type width into account, per table', () => {
    const p = parseProfile(HEAD + GOOD, 'test-gauge').profile;
    expect(p).not.toBeNull();
    const regs = p?.registers ?? [];
    expect(findOverlaps(regs)).toEqual([]);
    const clash = [...regs, { ...regs[0]!, name: 'other', address: 7 }];
    expect(findOverlaps(clash).map((q) => q.message)).toEqual(['other (input 7…8) overlaps total (8…9)']);
    expect(findOverlaps([...regs, { ...regs[0]!, name: 'elsewhere', table: 'holding' as const, address: 8 }])).toEqual([]);
  });
});

describe('loadAllProfiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-profiles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('throws one ProfileError (E_PROFILE) naming every file and problem', () => {
    writeFileSync(join(dir, 'good-gauge.yaml'), HEAD + GOOD);
    writeFileSync(join(dir, 'bad-one.yaml'), HEAD + GOOD.replace('address: 8', 'address: 3').replace('table: input', 'table: holding'));
    writeFileSync(join(dir, 'Bad_Two.yaml'), HEAD + GOOD);
    try {
      loadAllProfiles(dir);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProfileError);
      const e = err as ProfileError;
      expect(e.code).toBe('E_PROFILE');
      expect(e.problems).toEqual([
        expect.stringMatching(/Bad_Two\.yaml: file name Bad_Two must be kebab-case/),
        expect.stringMatching(/bad-one\.yaml: registers\[1\]\.address: decimals \(holding 3…3\) overlaps total \(3…4\) \(line \d+\)/),
      ]);
    }
  });

  it('loads a directory of sound profiles', () => {
    rmSync(join(dir, 'bad-one.yaml'));
    rmSync(join(dir, 'Bad_Two.yaml'));
    expect(loadAllProfiles(dir).map((p) => p.model)).toEqual(['good-gauge']);
  });
});
