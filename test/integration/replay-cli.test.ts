import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../gateway/cli.ts';

const FIX = fileURLToPath(new URL('../fixtures/zhengzhou-2021-07-20/', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/shaobing.mjs', import.meta.url));
const XSD = fileURLToPath(new URL('../../../shared/standards/cap/CAP-v1.2.xsd', import.meta.url));

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err };
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'sb-replay-'));

describe('shaobing replay', () => {
  it('the Zhengzhou hour (201.9 mm, 16:00–17:00) raises red within that hour, and every CAP file validates', async () => {
    const capDir = tmp();
    const r = await run(['replay', '--config', join(FIX, 'site.yaml'), '--readings', join(FIX, 'readings.csv'), '--cap-dir', capDir]);
    expect(r.err.at(-1)).toMatch(/^replayed 181 rows/);
    expect(r.code).toBe(0);
    const lines = r.out.map((l) => JSON.parse(l));
    const red = lines.find((l) => l.type === 'alert' && l.level === 'red');
    expect(red).toMatchObject({ sensor: 'rg1', rule: 'rain_3h', transition: 'escalated' });
    expect(red.at >= '2021-07-20T16:00:00+08:00' && red.at <= '2021-07-20T17:00:00+08:00').toBe(true);
    expect(red.values.rain_3h_mm).toBeGreaterThanOrEqual(100);
    expect(red.text_zh).toMatch(/3 小时降雨量 10\d\.\d 毫米,达到暴雨红色预警标准/);
    expect(red.text_en).toMatch(/10\d\.\d mm of rain in 3 h at Zhengzhou station gauge: red rainstorm level/);
    // The red alarm sounds: the air-raid alarm pattern at the same minute.
    expect(lines).toContainEqual(expect.objectContaining({ at: red.at, type: 'effect', effect: 'siren', actuator: null, zone: 'site', pattern: 'air_raid_alarm', priority: 'alarm' }));
    // Output is in time order.
    const times = lines.map((l) => l.at);
    expect([...times].sort()).toEqual(times);
    const files = readdirSync(capDir);
    expect(files.length).toBe(lines.filter((l) => l.type === 'alert').length);
    for (const f of files) {
      expect(f).toMatch(/^41010041600000_20210720\d{6}(_\d+)?\.xml$/);
      execFileSync('xmllint', ['--noout', '--schema', XSD, join(capDir, f)], { stdio: 'pipe' });
    }
  });

  it('bad rows are reported with their line and skipped; the rest is replayed (exit 3)', async () => {
    const dir = tmp();
    const csv = join(dir, 'r.csv');
    writeFileSync(
      csv,
      [
        'time,sensor,value',
        '2021-07-20T16:00:00+08:00,rg1,10',
        '2021-07-20T16:01:00,rg1,11',
        'yesterday,rg1,12',
        '2021-07-20T16:02:00+08:00,zz9,1',
        '2021-07-20T16:03:00+08:00,rg1,lots',
        '2021-07-20T16:04:00+08:00,rg1',
        '2021-07-20T16:05:00+08:00,rg1,1,2',
        '2021-07-20T16:06:00+08:00,rg1,',
        '2021-07-20T16:07:00+08:00,rg1,12.5',
      ].join('\n'),
    );
    const r = await run(['replay', '--config', join(FIX, 'site.yaml'), '--readings', csv]);
    expect(r.code).toBe(3);
    expect(r.err.slice(0, 6)).toEqual([
      `${csv}:line 3: '2021-07-20T16:01:00' is not an ISO 8601 time with a UTC offset`,
      `${csv}:line 4: 'yesterday' is not an ISO 8601 time with a UTC offset`,
      `${csv}:line 5: unknown sensor 'zz9' (not in the site config)`,
      `${csv}:line 6: 'lots' is not a number`,
      `${csv}:line 7: expected 3 fields time,sensor,value: '2021-07-20T16:04:00+08:00,rg1'`,
      `${csv}:line 8: expected 3 fields time,sensor,value: '2021-07-20T16:05:00+08:00,rg1,1,2'`,
    ]);
    // 16:00 → 16:07 with only a blank between: the gauge was stale for a moment (raised, cleared).
    expect(r.err.at(-1)).toBe('replayed 3 rows: 2 alert transitions, 2 effects; 6 bad rows skipped');
    expect(r.out.map((l) => JSON.parse(l)).filter((l) => l.type === 'alert').map((l) => `${l.rule}:${l.transition}`)).toEqual(['stale:raised', 'stale:cleared']);
  });

  it('a wrong header or a missing file is an error naming the file (exit 1)', async () => {
    const dir = tmp();
    const csv = join(dir, 'h.csv');
    writeFileSync(csv, 'when,what,how\n');
    const r = await run(['replay', '--config', join(FIX, 'site.yaml'), '--readings', csv]);
    expect([r.code, r.err]).toEqual([1, [`${csv}:line 1: the header must be 'time,sensor,value', not 'when,what,how'`]]);
    const m = await run(['replay', '--config', join(FIX, 'site.yaml'), '--readings', join(dir, 'nope.csv')]);
    expect(m.code).toBe(1);
    expect(m.err[0]).toContain('nope.csv');
  });

  it('usage errors exit 2', async () => {
    expect((await run(['replay', '--config', 'x.yaml'])).code).toBe(2);
    expect((await run(['replay', '--bogus'])).code).toBe(2);
    expect((await run(['frobnicate'])).code).toBe(2);
  });
});

describe('shaobing check-config', () => {
  it('accepts a good file and lists every problem of a bad one (exit 1)', async () => {
    const ok = await run(['check-config', join(FIX, 'site.yaml')]);
    expect(ok).toMatchObject({ code: 0, out: [`${join(FIX, 'site.yaml')}: ok (site zhengzhou, 1 sensors, 1 zones)`] });
    const dir = tmp();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'site: { id: t, name: t, colour: red }\nsensors:\n  - { id: w, kind: water_level }\n');
    const r = await run(['check-config', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`${bad}: site.colour: unknown key (line 1)`, `${bad}: sensors[0].stages: a water-level sensor needs at least one stage (attention, warning, guaranteed or historical_max) (line 3)`]);
  });

  it('the installed bin runs as a real process', () => {
    const r = spawnSync(process.execPath, [BIN, 'check-config', join(FIX, 'site.yaml')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ok (site zhengzhou');
  });
});
