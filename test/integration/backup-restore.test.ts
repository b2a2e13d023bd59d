/**
 * Data safety on real parts: `shaobing backup` of a log the box (its own process) is writing,
 * under readings and alarms; the copy opens, passes integrity_check and holds every seq up to its
 * last; `shaobing restore` refuses while the box runs, moves the old log aside, and a box started
 * on the restored log numbers above everything the old one handed out, with one `seq_skipped`
 * and no other gap; `shaobing export` as CSV and JSON lines, by time, type and zone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectBackup } from '../../gateway/backup/backup-file.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';
import { FAST } from '../helpers/box-site.ts';
import { runCli } from '../helpers/cli-child.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { MIN, openStore, T0 } from '../helpers/store-rig.ts';
import { until } from '../helpers/until.ts';

const BIN = fileURLToPath(new URL('../../bin/shaobing.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sb-backup-'));
const dbPath = join(dir, 'box.db');
const configPath = join(dir, 'site.yaml');
let port: number;
const children: ChildProcess[] = [];

interface Row {
  seq: number;
  type: string;
  payload: string;
}
const rows = (file: string): Row[] => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT seq, type, payload FROM events ORDER BY seq').all() as Row[];
  } finally {
    db.close();
  }
};

async function startBoxChild(): Promise<ChildProcess> {
  const box = spawn(process.execPath, [BIN, 'start', '--config', configPath], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(box);
  await until('the box listening', () => readFileSync('/proc/net/tcp', 'utf8').includes(`:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`), 60_000, 100);
  return box;
}

async function stopBoxChild(box: ChildProcess): Promise<void> {
  if (box.exitCode !== null) return;
  const exited = new Promise((r) => box.once('exit', r));
  box.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  port = await freePort();
  writeFileSync(
    configPath,
    `
site: { id: safe, name: 备份村 }
sensors:
  - { id: wl1, kind: water_level, stages: { warning: 2.5, guaranteed: 3.0 }, raise_after_s: 0, clear_after_s: 0, hysteresis_m: 0 }
actuators: [{ id: siren1, kind: siren, zones: [site] }]
actions: { all_clear_pattern: null }
mqtt:
  host: 127.0.0.1
  port: ${port}
  ws_port: 0
  accounts:
    - { username: wl1, role: device, secret_hash: '${await hashSecret('pw-wl1-secret', FAST)}' }
store: { path: '${dbPath}' }
`,
  );
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('backup while the box writes, and restore', () => {
  let box: ChildProcess;
  let device: MqttClient;
  let flipping: NodeJS.Timeout;
  const backup = join(dir, 'backup.db');
  let backupLast = 0;
  let oldLast = 0;

  beforeAll(async () => {
    box = await startBoxChild();
    device = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'wl1', password: 'pw-wl1-secret', clientId: 'wl1-test', reconnectPeriod: 0 });
    // The river crosses its guaranteed stage and back every 100 ms: alerts, sirens, their events.
    let high = false;
    flipping = setInterval(() => {
      high = !high;
      void device.publishAsync('sb/v1/safe/sensor/wl1/reading', JSON.stringify({ value: high ? 3.4 : 1.0 }), { qos: 1 }).catch(() => undefined);
    }, 100);
    await until('events in the log', () => existsSync(dbPath) && rows(dbPath).length > 50, 30_000, 200);
  }, 90_000);

  afterAll(async () => {
    clearInterval(flipping);
    await device?.endAsync(true);
    await stopBoxChild(box);
  });

  it('makes a whole, checked copy while the box commits', async () => {
    const run = await runCli(['backup', '--config', configPath, '--out', backup], { timeoutMs: 60_000 });
    expect(run.code).toBe(0);
    expect(run.out[0]).toMatch(/^backed up .* to .*backup\.db: \d+ events, last seq \d+, [\d.]+ MB, \d+ ms; integrity check ok$/);
    expect(existsSync(`${backup}.partial`)).toBe(false);
    const seen = inspectBackup(backup);
    backupLast = seen.lastSeq;
    expect(backupLast).toBeGreaterThan(50);
    const db = new Database(backup, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete'); // one self-contained file
    db.close();
    // Every seq up to the copy's last, none missing: a snapshot of whole commits.
    expect(rows(backup).map((r) => r.seq)).toEqual(Array.from({ length: backupLast }, (_, i) => i + 1));
    // Nothing beside it is needed.
    expect(readdirSync(dir).filter((f) => f.startsWith('backup.db'))).toEqual(['backup.db']);
    // The box went on past the copy.
    await until('the box past the backup', () => rows(dbPath).at(-1)!.seq > backupLast + 20, 30_000, 200);
  }, 90_000);

  it('refuses an existing file and a missing log', async () => {
    const again = await runCli(['backup', '--config', configPath, '--out', backup], { timeoutMs: 60_000 });
    expect(again.code).toBe(1);
    expect(again.err[0]).toContain('exists already');
    const none = await runCli(['backup', '--db', join(dir, 'nope.db'), '--out', join(dir, 'x.db')], { timeoutMs: 60_000 });
    expect(none.code).toBe(1);
    expect(none.err[0]).toContain('there is no log at');
    const usage = await runCli(['backup', '--config', configPath], { timeoutMs: 60_000 });
    expect(usage.code).toBe(2);
  }, 90_000);

  it('refuses to restore while the box runs', async () => {
    const run = await runCli(['restore', '--config', configPath, '--from', backup], { timeoutMs: 60_000 });
    expect(run.code).toBe(1);
    expect(run.err[0]).toMatch(/^restore refused: the log is open in pid \d+ .*stop the box first/);
    expect(rows(dbPath).length).toBeGreaterThan(backupLast); // untouched
  }, 90_000);

  it('restores with the box stopped, and the box continues above every seq the old log handed out', async () => {
    clearInterval(flipping);
    await device.endAsync(true);
    await stopBoxChild(box);
    oldLast = rows(dbPath).at(-1)!.seq;
    const damaged = join(dir, 'damaged.db');
    writeFileSync(damaged, Buffer.alloc(8192, 0x41));
    const bad = await runCli(['restore', '--config', configPath, '--from', damaged], { timeoutMs: 60_000 });
    expect(bad.code).toBe(1);
    expect(bad.err[0]).toContain('restore refused');
    expect(rows(dbPath).at(-1)!.seq).toBe(oldLast); // the log is as it was

    const run = await runCli(['restore', '--config', configPath, '--from', backup], { timeoutMs: 60_000 });
    expect(run.code).toBe(0);
    expect(run.out[0]).toBe(`restored ${backup} (last seq ${backupLast}) to ${dbPath}`);
    const moved = /kept as (\S+) \(nothing was deleted\)/.exec(run.out[1]!)?.[1];
    expect(moved).toBeTruthy();
    expect(rows(moved!).at(-1)!.seq).toBe(oldLast);
    // A backup made while the box ran carries that run's reservation (20,000 ahead), above what the
    // old log's clean stop left; the higher of the two is the floor.
    expect(run.out[2]).toMatch(/^the box will number from (\d+) \(floor from (the backup’s own reservation|the previous log’s highest seq)\)/);
    const floor = Number(/number from (\d+)/.exec(run.out[2]!)![1]) - 1;
    expect(floor).toBeGreaterThanOrEqual(oldLast);

    box = await startBoxChild();
    await until('the restored box started', () => rows(dbPath).some((r) => r.seq > floor && r.type === 'start'), 30_000, 200);
    await stopBoxChild(box);
    const after = rows(dbPath);
    const before = rows(backup);
    // The backup's events, unchanged, then nothing at or below the old log's seqs.
    expect(after.slice(0, before.length)).toEqual(before);
    const fresh = after.slice(before.length);
    expect(fresh.every((r) => r.seq > oldLast)).toBe(true);
    // One gap announcement, as the store's rule for a run that did not stop cleanly says.
    const gaps = fresh.filter((r) => r.type === 'storage').map((r) => JSON.parse(r.payload) as { what: string; from: number; to: number });
    expect(gaps.filter((g) => g.what === 'seq_skipped')).toEqual([{ what: 'seq_skipped', from: backupLast + 1, to: floor, why: expect.any(String) }]);
    expect(gaps.filter((g) => g.what !== 'seq_skipped')).toEqual([]);
    expect(inspectBackup(dbPath).lastSeq).toBe(after.at(-1)!.seq);
  }, 120_000);
});

describe('export', () => {
  const logFile = join(dir, 'export.db');
  const exportConfig = join(dir, 'export.yaml');
  beforeAll(async () => {
    const { store, clock } = await openStore(logFile);
    store.append('transition', { transition: 'raised', alert: 'wl1/stage/1', zone: 'b3', level: 'red', textZh: '水位超过保证水位', textEn: 'above the guaranteed stage' });
    clock.advance(MIN);
    store.append('effect', { type: 'siren', zone: 'site', by: 'engine' });
    clock.advance(MIN);
    store.append('command', { by: 'wang', command: { type: 'broadcast', zones: ['b3'], textZh: '=请撤离', textEn: 'leave now' } });
    clock.advance(MIN);
    store.append('note', { detail: 'after the range' });
    await store.stop();
    writeFileSync(exportConfig, `site: { id: exp, name: 导出 }\nsensors: [{ id: wl1, kind: water_level, stages: { warning: 2.5 } }]\nstore: { path: '${logFile}' }\n`);
  });
  const iso = (t: number): string => new Date(t).toISOString();

  it('writes CSV for a time range: BOM, the panel’s header, Chinese as Chinese, formulas defused', async () => {
    const run = await runCli(['export', '--config', exportConfig, '--since', iso(T0), '--until', iso(T0 + 3 * MIN), '--format', 'csv'], { timeoutMs: 60_000 });
    expect(run.code).toBe(0);
    expect(run.out[0]).toBe('\uFEFFseq,at,type,zone,alert,level,by,text_zh,text_en,clock_trusted,payload\r');
    expect(run.out.slice(1).map((l) => l.split(',')[2])).toEqual(['transition', 'effect', 'command']);
    expect(run.out[1]).toContain('水位超过保证水位');
    expect(run.out[3]).toContain(",'=请撤离,"); // a broadcast text is not a spreadsheet formula
    expect(run.err.at(-1)).toBe('exported 3 events');
  }, 60_000);

  it('writes JSON lines in the township’s wire form, by type and zone, to a file', async () => {
    const out = join(dir, 'events.jsonl');
    const run = await runCli(['export', '--config', exportConfig, '--format', 'jsonl', '--zone', 'b3', '--out', out], { timeoutMs: 60_000 });
    expect(run.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.seq, l.type, l.site])).toEqual([
      [1, 'transition', 'exp'],
      [3, 'command', 'exp'],
    ]);
    expect(lines[0]).toMatchObject({ at: '2026-07-20T08:00:00+08:00', clock_trusted: true, text_zh: '水位超过保证水位' });
    expect(lines[0]).not.toHaveProperty('live');
    expect(existsSync(`${out}.partial`)).toBe(false);
    const types = await runCli(['export', '--config', exportConfig, '--format', 'jsonl', '--type', 'effect,note'], { timeoutMs: 60_000 });
    expect(types.out.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['effect', 'note']);
  }, 60_000);

  it('refuses a time without an offset, an unknown type and an unknown format, with the usage', async () => {
    for (const args of [['--since', '2026-07-20T08:00'], ['--type', 'bogus'], ['--format', 'xml']]) {
      const run = await runCli(['export', '--config', exportConfig, ...args], { timeoutMs: 60_000 });
      expect(run.code).toBe(2);
      expect(run.err.at(-1)).toContain('usage: shaobing export');
    }
  }, 90_000);
});
