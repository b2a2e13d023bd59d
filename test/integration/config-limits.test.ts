/**
 * `check-config` and `start` on hostile config files: every problem as `FILE: path: message`
 * (exit 1, the same lines from both), and bounded time and memory through stated limits
 * (README "Site config", limits).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../gateway/cli.ts';
import { MAX_CONFIG_BYTES } from '../../gateway/config/read-file.ts';
import { MAX_SENSORS } from '../../gateway/config/schema.ts';
import { runCli } from '../helpers/cli-child.ts';

const dir = mkdtempSync(join(tmpdir(), 'sb-config-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err };
}

async function refused(path: string): Promise<string[]> {
  const check = await run(['check-config', path]);
  expect(check.code).toBe(1);
  return check.err;
}

/** check-config and start (its config worker) give the same lines for a bad file, and both exit 1. */
async function refusedByBoth(path: string): Promise<string[]> {
  const check = await run(['check-config', path]);
  const start = await run(['start', '--config', path]);
  expect(check.code).toBe(1);
  expect(start).toEqual({ code: 1, out: [], err: check.err });
  return check.err;
}

const SITE = 'site: { id: s1, name: 测试 }\nsensors: [{ id: rg1, kind: rain }]\n';

describe('a bad config is refused as FILE: path: message, by check-config and start alike', () => {
  it('ws_port equal to port (the box would run with no broker); ws_port 0 (off) never clashes', async () => {
    const clash = file('clash.yaml', `${SITE}mqtt:\n  port: 18830\n  ws_port: 18830\n`);
    expect(await refusedByBoth(clash)).toEqual([`${clash}: mqtt.ws_port: must differ from mqtt.port (18830): both are served on 0.0.0.0 (line 5)`]);
    const byDefault = file('clash-default.yaml', `${SITE}mqtt: { port: 8083 }\n`);
    expect(await refused(byDefault)).toEqual([`${byDefault}: mqtt.port: must differ from mqtt.ws_port (8083): both are served on 0.0.0.0 (line 3)`]);
    const ephemeral = file('ephemeral.yaml', `${SITE}mqtt: { port: 0, ws_port: 0 }\n`);
    expect((await run(['check-config', ephemeral])).code).toBe(0);
  });

  it('a YAML alias bomb', async () => {
    let bomb = 'a: &a [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 0, prev = 'a'; i < 12; prev = `b${i++}`) bomb += `b${i}: &b${i} [${Array(10).fill(`*${prev}`).join(', ')}]\n`;
    const path = file('bomb.yaml', bomb);
    expect(await refusedByBoth(path)).toEqual([`${path}: (top): YAML: more than 100 alias expansions (*name); a site config needs nowhere near that many`]);
  });

  it('UTF-16 (either byte order), NUL bytes and bytes that are not UTF-8', async () => {
    const le = file('le.yaml', Buffer.from(`\uFEFF${SITE}`, 'utf16le'));
    expect(await refusedByBoth(le)).toEqual([`${le}: (top): the file is UTF-16 (little-endian); save it as UTF-8`]);
    const be = file('be.yaml', Buffer.from(Buffer.from(`\uFEFF${SITE}`, 'utf16le')).swap16());
    expect(await refused(be)).toEqual([`${be}: (top): the file is UTF-16 (big-endian); save it as UTF-8`]);
    const nul = file('nul.yaml', Buffer.from(SITE, 'utf16le'));
    expect(await refused(nul)).toEqual([`${nul}: (top): the file has NUL bytes (line 1); is it UTF-16? save it as UTF-8`]);
    const gbk = file('gbk.yaml', Buffer.concat([Buffer.from('site: { id: s1, name: x }\nsensors:\n  - { id: rg1, kind: rain, name: '), Buffer.from([0xd3, 0xea, 0xc1, 0xbf]), Buffer.from(' }\n')]));
    expect(await refused(gbk)).toEqual([`${gbk}: (top): the file is not UTF-8 (line 3); save it as UTF-8`]);
  });

  it('a UTF-8 byte-order mark is fine', async () => {
    const bom = file('bom.yaml', `\uFEFF${SITE}`);
    expect((await run(['check-config', bom])).code).toBe(0);
  });
});

describe(`config size is bounded: at most ${MAX_CONFIG_BYTES} bytes and ${MAX_SENSORS} sensors`, () => {
  let baselineMb = 0;
  beforeAll(async () => {
    const r = await runCli(['check-config', file('small.yaml', SITE)]);
    expect(r.code).toBe(0);
    baselineMb = r.peakRssMb;
  });

  const sensors = (n: number): string => Array.from({ length: n }, (_, i) => `  - { id: rg${i}, kind: rain }`).join('\n');

  it('650,000 sensors (21 MB) are refused before the file is parsed: peak RSS within 32 MB of a small check', async () => {
    const path = file('huge.yaml', `site: { id: s1, name: 测试 }\nsensors:\n${sensors(650_000)}\n`);
    const r = await runCli(['check-config', path], { timeoutMs: 30_000 });
    expect(r.err).toEqual([`${path}: (top): the file is 20.4 MiB; a site config may be at most 512 KiB`]);
    expect(r.code).toBe(1);
    expect(r.peakRssMb, `baseline ${baselineMb} MB`).toBeLessThan(baselineMb + 32);
  });

  it(`as many sensors as fit in ${MAX_CONFIG_BYTES} bytes: one problem on the sensors list, peak RSS within 200 MB of a small check`, async () => {
    const n = Math.floor((MAX_CONFIG_BYTES - 100) / 33);
    const path = file('full.yaml', `site: { id: s1, name: 测试 }\nsensors:\n${sensors(n)}\n`);
    const r = await runCli(['check-config', path], { timeoutMs: 30_000 });
    expect(r.err).toEqual([`${path}: sensors: at most ${MAX_SENSORS} sensors per site, not ${n} (line 3)`]);
    expect(r.code).toBe(1);
    expect(r.peakRssMb, `baseline ${baselineMb} MB`).toBeLessThan(baselineMb + 200);
  });

  it(`${MAX_SENSORS} sensors are fine`, async () => {
    const r = await run(['check-config', file('max.yaml', `site: { id: s1, name: 测试 }\nsensors:\n${sensors(MAX_SENSORS)}\n`)]);
    expect(r.err).toEqual([]);
    expect(r.out[0]).toMatch(new RegExp(`ok \\(site s1, ${MAX_SENSORS} sensors`));
  });
});
