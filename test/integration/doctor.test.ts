/**
 * `shaobing doctor` against real parts: a Modbus TCP gateway simulator with a healthy rain gauge,
 * a river probe that answers every read with exception 2 and a unit that is not there; an RS-485
 * line on a socat pty with a river probe and a relay; a township Mosquitto with the box's account
 * (good and bad passwords, and one that is down); the box itself in its own process
 * (`shaobing start`) for the checks made while it runs; socat holding the broker's port; aplay
 * on ALSA's null device and on a device that does not exist; a damaged log file.
 *
 * Seams, all documented options of the doctor: no timedatectl in this container (null) and a
 * timesync flag file that is absent; the disk's free space (`statfs`) for a disk that looks full.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorOptions } from '../../gateway/doctor/doctor.ts';
import { exitCode } from '../../gateway/doctor/report.ts';
import { migrate } from '../../gateway/store/schema.ts';
import type { CheckResult } from '../../gateway/doctor/types.ts';
import { SimulatedBus } from '../../simulators/modbus/bus.ts';
import { profiles } from '../helpers/box-modbus-rig.ts';
import { runCli } from '../helpers/cli-child.ts';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { until } from '../helpers/until.ts';

const BIN = fileURLToPath(new URL('../../bin/shaobing.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sb-doctor-'));
const SEAMS: DoctorOptions = { timedatectl: null, timesyncFile: join(dir, 'no-timesync-flag'), audioDevice: 'null', wearMinUptimeS: 0, townshipDeadlineMs: 5000 };

let tcp: SimulatedBus;
let rtu: SimulatedBus;
let township: Mosquitto;
let mqttPort: number;
const children: ChildProcess[] = [];

function config(name: string, o: { password?: string; townshipPort?: number; store?: string } = {}): string {
  const pw = join(dir, `${name}.pw`);
  writeFileSync(pw, `${o.password ?? 'good-secret'}\n`);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `
site: { id: doc, name: 体检村 }
buses:
  - { id: gw1, type: tcp, host: 127.0.0.1, port: ${tcp.endpoint.port}, timeout_ms: 200 }
  - { id: line1, type: rtu, path: '${rtu.path}', baud: 9600, timeout_ms: 200 }
sensors:
  - { id: rg1, kind: rain, modbus: { bus: gw1, unit: 1, profile: xunchip-xm9505, poll_s: 1 } }
  - { id: wl2, kind: water_level, stages: { warning: 2.5 }, modbus: { bus: gw1, unit: 2, profile: qdy30a, poll_s: 1 } }
  - { id: wl3, kind: water_level, stages: { warning: 2.5 }, modbus: { bus: gw1, unit: 3, profile: qdy30a, poll_s: 1 } }
  - { id: wl4, kind: water_level, stages: { warning: 2.5 }, modbus: { bus: line1, unit: 4, profile: qdy30a, poll_s: 1 } }
actuators:
  - { id: siren1, kind: siren, zones: [site], modbus: { bus: line1, unit: 5, profile: waveshare-modbus-rtu-relay } }
mqtt: { host: 127.0.0.1, port: ${mqttPort}, ws_port: 0 }
uplink: { url: 'mqtt://127.0.0.1:${o.townshipPort ?? township.port}', username: doc, password_file: '${pw}' }
store: { path: '${o.store ?? join(dir, 'doc.db')}' }
`,
  );
  return file;
}

const byId = (rs: CheckResult[], id: string): CheckResult => {
  const r = rs.find((x) => x.id === id);
  if (!r) throw new Error(`no check ${id} in ${rs.map((x) => x.id).join(', ')}`);
  return r;
};

beforeAll(async () => {
  tcp = new SimulatedBus({ transport: 'tcp' });
  tcp.add(profiles.get('xunchip-xm9505')!, 1).set('rainfall_mm', 12.4);
  tcp.add(profiles.get('qdy30a')!, 2).fault({ kind: 'exception', code: 2 });
  // unit 3 is configured and not on the bus: silence, as on a real line
  rtu = new SimulatedBus({ transport: 'rtu' });
  const probe = rtu.add(profiles.get('qdy30a')!, 4);
  probe.set('unit_code', 1);
  probe.set('decimals', 2);
  probe.set('level', 1.37);
  rtu.add(profiles.get('waveshare-modbus-rtu-relay')!, 5);
  await tcp.start();
  await rtu.start();
  township = await startMosquitto({ accounts: [{ username: 'doc', password: 'good-secret' }], acl: ['user doc', 'topic readwrite sb/v1/doc/#', 'topic read sb/v1/cap/#'] });
  mqttPort = await freePort();
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await tcp?.stop();
  await rtu?.stop();
  await township?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the doctor with the box stopped', () => {
  let rs: CheckResult[];
  beforeAll(async () => {
    rs = (await runDoctor(config('stopped'), SEAMS)).results;
  }, 60_000);

  it('reads every Modbus unit once, with its round trip, and says what a failure means', () => {
    expect(byId(rs, 'config').status).toBe('pass');
    expect(byId(rs, 'box')).toMatchObject({ status: 'info', figures: { running: false } });
    expect(byId(rs, 'bus:gw1').status).toBe('pass');
    const gauge = byId(rs, 'modbus:gw1:1');
    expect(gauge.status).toBe('pass');
    expect(gauge.said.en).toMatch(/^answered rainfall_mm = 12\.4 mm, round trip \d+\.\d ms$/);
    expect(gauge.figures!.round_trip_ms).toBeGreaterThan(0);
    const exception = byId(rs, 'modbus:gw1:2');
    expect(exception).toMatchObject({ status: 'fail', figures: { code: 'E_EXCEPTION_2' } });
    expect(exception.said.en).toBe('answered with a Modbus exception: illegal data address: the device has no such register');
    expect(exception.fix!.en).toContain('qdy30a');
    const missing = byId(rs, 'modbus:gw1:3');
    expect(missing).toMatchObject({ status: 'fail', said: { en: 'no answer within 200 ms' } });
    expect(missing.fix!.en).toContain('unit id 3');
    expect(byId(rs, 'bus:line1')).toMatchObject({ status: 'pass', said: { en: 'exists and opens (9600 baud, parity none)' } });
    expect(byId(rs, 'modbus:line1:4').said.en).toMatch(/^answered level = 1\.37 m, round trip/);
    // The relay is read (its confirm register), never written: no siren sounds.
    expect(byId(rs, 'modbus:line1:5')).toMatchObject({ status: 'pass', figures: { value: 0 } });
    expect(rtu.device(5).writes).toEqual([]);
  });

  it('checks the ports, the township, the audio device, the clock, the disk and the log', () => {
    expect(byId(rs, `port:${mqttPort}`)).toMatchObject({ status: 'pass', said: { en: 'free' } });
    const t = byId(rs, 'township');
    expect(t.status).toBe('pass');
    expect(t.said.en).toMatch(/^reachable, accepts doc \(CONNACK 0, MQTT 5, \d+ ms\)$/);
    expect(byId(rs, 'audio')).toMatchObject({ status: 'pass' });
    expect(byId(rs, 'clock:ntp')).toMatchObject({ status: 'unknown' });
    expect(byId(rs, 'clock:rtc').status).toBe('fail'); // no /dev/rtc here, and no sync
    expect(byId(rs, 'clock:events').status).toBe('info'); // no log yet
    expect(byId(rs, 'disk').status).toBe('pass');
    expect(byId(rs, 'wear').status).toBe('info');
    expect(byId(rs, 'log')).toMatchObject({ status: 'info', said: { en: 'not there yet: the box creates it at its first start' } });
    expect(exitCode(rs)).toBe(1);
  });
});

describe('the township broker, in words', () => {
  it('explains a refused password by its CONNACK code', async () => {
    const r = byId((await runDoctor(config('badpw', { password: 'wrong' }), SEAMS)).results, 'township');
    expect(r.status).toBe('fail');
    // Mosquitto says "not authorized" (0x87) for a wrong password, where EMQX says 0x86.
    expect(r.figures).toMatchObject({ connack: 0x87, protocol: 5 });
    expect(r.said.en).toBe('refused: CONNACK 0x87 not authorized');
    expect(r.fix!.en).toContain('password file');
  }, 60_000);

  it('says when nothing listens there', async () => {
    const r = byId((await runDoctor(config('down', { townshipPort: await freePort() }), SEAMS)).results, 'township');
    expect(r).toMatchObject({ status: 'fail', figures: { error: 'ECONNREFUSED' } });
    expect(r.said.en).toMatch(/^nothing listens at mqtt:\/\/127\.0\.0\.1:\d+$/);
  }, 60_000);
});

describe('a port taken by another program, a sound device that does not exist, a disk that looks full', () => {
  it('names the program, the missing device and the space', async () => {
    const socat = spawn('socat', [`TCP-LISTEN:${mqttPort},bind=127.0.0.1,reuseaddr,fork`, 'SYSTEM:true'], { stdio: 'ignore' });
    children.push(socat);
    try {
      await until('socat listening', () => readFileSync('/proc/net/tcp', 'utf8').includes(`:${mqttPort.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`), 10_000);
      const rs = (await runDoctor(config('taken'), { ...SEAMS, audioDevice: 'no_such_pcm', statfs: () => ({ freeBytes: 50 * 1024 * 1024, totalBytes: 8 * 1024 ** 3 }) })).results;
      const port = byId(rs, `port:${mqttPort}`);
      expect(port).toMatchObject({ status: 'fail', figures: { free: false, pid: socat.pid } });
      expect(port.said.en).toContain('socat');
      expect(port.fix!.en).toContain('systemctl disable --now mosquitto');
      const audio = byId(rs, 'audio');
      expect(audio.status).toBe('fail');
      expect(audio.said.en).toContain('Unknown PCM no_such_pcm');
      expect(audio.fix!.en).toContain('aplay -L');
      const disk = byId(rs, 'disk');
      expect(disk).toMatchObject({ status: 'fail', figures: { free_mb: 50 } });
      expect(disk.said.en).toBe('50 MB of 8.0 GB free, under 200 MB');
    } finally {
      socat.kill('SIGKILL');
    }
  }, 60_000);
});

describe('the doctor while the box runs', () => {
  let box: ChildProcess;
  let boxLog = '';
  let rs: CheckResult[];
  const dbPath = join(dir, 'doc.db');
  const goodReadings = (sensor: string): number => {
    try {
      const db = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM readings WHERE sensor = ? AND quality = 'good'").get(sensor) as { n: number }).n;
      } finally {
        db.close();
      }
    } catch {
      return 0;
    }
  };

  beforeAll(async () => {
    box = spawn(process.execPath, [BIN, 'start', '--config', config('running')], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(box);
    box.stdout!.on('data', (d: Buffer) => (boxLog += d.toString()));
    box.stderr!.on('data', (d: Buffer) => (boxLog += d.toString()));
    // Polled every second, committed every READING_FLUSH_MS: a few good readings of each live unit.
    await until('the box polling both buses', () => goodReadings('wl4') >= 3 && goodReadings('rg1') >= 3, 60_000, 200);
    rs = (await runDoctor(join(dir, 'running.yaml'), SEAMS)).results;
  }, 120_000);

  afterAll(async () => {
    if (box.exitCode === null) {
      const exited = new Promise((r) => box.once('exit', r));
      box.kill('SIGTERM');
      await exited;
    }
  });

  it('sees the box, leaves its serial port and gateway alone, and judges the units from its readings', async () => {
    expect(byId(rs, 'box')).toMatchObject({ status: 'info', figures: { running: true, pid: box.pid } });
    expect(byId(rs, 'bus:line1')).toMatchObject({ status: 'pass', said: { en: `exists; held by the box (pid ${box.pid})` } });
    expect(byId(rs, 'bus:gw1').status).toBe('skipped');
    expect(byId(rs, 'modbus:line1:4').status).toBe('pass');
    expect(byId(rs, 'modbus:line1:4').said.en).toMatch(/^in use by the box: \d+ good readings in 60 s, the newest \d+ s ago$/);
    expect(byId(rs, 'modbus:line1:5').status).toBe('skipped'); // a relay: the box reads it only when it drives it
    expect(byId(rs, 'modbus:gw1:1').status).toBe('pass');
    expect(byId(rs, 'modbus:gw1:2')).toMatchObject({ status: 'fail' });
    expect(byId(rs, 'modbus:gw1:2').said.en).toMatch(/^the box's reads failed \d+ times in 60 s, none good$/);
    expect(byId(rs, 'modbus:gw1:3').status).toBe('fail');
    // The box went on polling the RTU line without a failure while the doctor ran.
    const before = goodReadings('wl4');
    await until('more readings of wl4', () => goodReadings('wl4') > before + 1, 20_000, 200);
    const lineFailures = boxLog.split('\n').filter((l) => l.includes('"unit not answering"') && l.includes('"bus":"line1"'));
    expect(lineFailures).toEqual([]);
  });

  it('says the broker port is the box’s own, measures its writes, and checks the log read-only', () => {
    expect(byId(rs, `port:${mqttPort}`)).toMatchObject({ status: 'pass', figures: { pid: box.pid } });
    expect(byId(rs, 'township').status).toBe('pass');
    // Seconds after its start the average is mostly the start's own writes: judged against the budget all the same.
    const wear = byId(rs, 'wear');
    const mbPerH = wear.figures!.mb_per_h as number;
    expect(mbPerH).toBeGreaterThan(0);
    expect(wear).toMatchObject({ status: mbPerH <= 100 ? 'pass' : 'fail', figures: { budget_mb_per_h: 100 } });
    const log = byId(rs, 'log');
    expect(log.status).toBe('pass');
    expect(log.figures!.last_seq).toBeGreaterThan(0);
    expect(byId(rs, 'clock:events')).toMatchObject({ status: 'pass', figures: { untrusted_events: 0 } });
    expect(byId(rs, 'disk').status).toBe('pass');
  });

  it('run by a user who cannot see the box’s process, leaves every bus alone and says to run it as root', async () => {
    // The config and its folder readable by `nobody` (mkdtemp made the folder 0700).
    chmodSync(dir, 0o755);
    for (const f of ['running.yaml', 'running.pw']) chmodSync(join(dir, f), 0o644);
    const run = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, BIN, 'doctor', '--config', join(dir, 'running.yaml'), '--json'], { encoding: 'utf8', timeout: 90_000, cwd: tmpdir() });
    const report = JSON.parse(run.stdout) as { checks: CheckResult[] };
    expect(byId(report.checks, 'box')).toMatchObject({ status: 'unknown', fix: { en: 'run it as root: sudo shaobing doctor --config …' } });
    for (const id of ['bus:gw1', 'bus:line1', 'modbus:gw1:1', 'modbus:line1:4']) expect(byId(report.checks, id).status).toBe('skipped');
    expect(run.status).not.toBe(0);
  }, 120_000);

  it('judges its wear against the budget given', async () => {
    const low = byId((await runDoctor(join(dir, 'running.yaml'), { ...SEAMS, wearBudgetMbPerH: 0.000001 })).results, 'wear');
    expect(low.status).toBe('fail');
    expect(low.fix!.en).toContain('sensors sending too fast');
    const high = byId((await runDoctor(join(dir, 'running.yaml'), { ...SEAMS, wearBudgetMbPerH: 1e9 })).results, 'wear');
    expect(high.status).toBe('pass');
    // Until the box has run long enough, the average says little: not judged.
    expect(byId((await runDoctor(join(dir, 'running.yaml'), { ...SEAMS, wearMinUptimeS: 3600 })).results, 'wear').status).toBe('unknown');
  }, 60_000);
});

describe('the log disk at the rate the log shows', () => {
  // A log with the last hour of a site's readings (10 per second), a day of events and rollups.
  const seeded = join(dir, 'seeded.db');
  beforeAll(() => {
    const db = new Database(seeded);
    migrate(db);
    const now = Date.now();
    const reading = db.prepare("INSERT INTO readings (sensor, at_wall, value, quality) VALUES (?, ?, 1.5, 'good')");
    const event = db.prepare("INSERT INTO events (seq, type, at_wall, at_mono, boot, clock_trusted, payload) VALUES (?, 'note', ?, 0, 'b', 1, ?)");
    db.transaction(() => {
      for (let i = 0; i < 36_000; i++) reading.run(`wl${i % 10}`, now - 3_500_000 + i * 97);
      for (let i = 1; i <= 500; i++) event.run(i, now - 80_000_000 + i * 1000, JSON.stringify({ i, text_zh: '水位正常' }));
    })();
    db.close();
  });

  it('passes when the log levels off within the free space, and says where', async () => {
    const disk = byId((await runDoctor(config('seeded', { store: seeded }), { ...SEAMS, statfs: () => ({ freeBytes: 10 * 1024 ** 3, totalBytes: 32 * 1024 ** 3 }) })).results, 'disk');
    expect(disk.status).toBe('pass');
    // 864,000 readings a day of about 41 bytes: about 34 MB a day, kept 7 days.
    expect(disk.figures!.growth_mb_per_day).toBeGreaterThan(30);
    expect(disk.figures!.growth_mb_per_day).toBeLessThan(40);
    expect(disk.said.en).toMatch(/^10 GB of 32 GB free; the log grows about 3\d\.\d MB a day and levels off at about 2\d\d MB under retention: enough room$/);
  }, 60_000);

  it('fails when it would fill the disk within min_days, and says in how many', async () => {
    const disk = byId((await runDoctor(config('seeded', { store: seeded }), { ...SEAMS, statfs: () => ({ freeBytes: 300 * 1024 * 1024, totalBytes: 8 * 1024 ** 3 }) })).results, 'disk');
    expect(disk.status).toBe('fail');
    expect(disk.said.en).toMatch(/^300 MB of 8\.0 GB free; the log grows about 3\d\.\d MB a day: full in about [23] days$/);
    expect(disk.fix!.en).toContain('store.raw_retention_days (now 7 days)');
  }, 60_000);
});

describe('the speakers the box plays itself', () => {
  it('plays a silent test on each ALSA speaker, checks a file speaker’s folder, and speaks Mandarin with the TTS', async () => {
    const file = join(dir, 'speakers.yaml');
    writeFileSync(
      file,
      `site: { id: snd, name: 声音 }
sensors: [{ id: wl1, kind: water_level, stages: { warning: 2.5 } }]
actuators:
  - { id: spk1, kind: speaker, zones: [site], audio: { sink: alsa, device: 'null' } }
  - { id: spk2, kind: speaker, zones: [site], audio: { sink: file, folder: '${join(dir, 'wav')}', monitor: no_card_here } }
  - { id: spk3, kind: speaker, zones: [site], audio: { sink: alsa, device: no_such_pcm } }
mqtt: { host: 127.0.0.1, port: ${mqttPort}, ws_port: 0 }
store: { path: '${join(dir, 'snd.db')}' }
`,
    );
    const rs = (await runDoctor(file, { ...SEAMS, audioDevice: undefined })).results;
    expect(byId(rs, 'audio:spk1')).toMatchObject({ status: 'pass', what: { en: "speaker spk1's sound device null" } });
    expect(byId(rs, 'audio:spk2')).toMatchObject({ status: 'pass', said: { en: 'writable (one WAV per broadcast)' } });
    // A file speaker's monitor plays only where there is a card: its failure informs, it does not fail.
    expect(byId(rs, 'audio:spk2:monitor').status).toBe('info');
    expect(byId(rs, 'audio:spk3').status).toBe('fail');
    expect(byId(rs, 'audio:tts')).toMatchObject({ status: 'pass', said: { en: 'speaks Mandarin' } });
  }, 60_000);
});

describe('a damaged log', () => {
  it('fails the integrity check and leaves the file as it was', async () => {
    const good = join(dir, 'damaged.db');
    const db = new Database(good);
    db.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY, type TEXT, at_wall INTEGER, at_mono REAL, boot TEXT, clock_trusted INTEGER, payload TEXT); CREATE INDEX e_type ON events (type);');
    const ins = db.prepare('INSERT INTO events VALUES (?, ?, ?, 0, ?, 1, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 3000; i++) ins.run(i, 'note', Date.now(), 'b', JSON.stringify({ i, pad: 'x'.repeat(200) }));
    })();
    db.close();
    const bytes = readFileSync(good);
    // Garbage over a few pages in the middle of the table's B-tree.
    bytes.fill(0x5a, 40 * 4096 + 100, 42 * 4096);
    writeFileSync(good, bytes);
    copyFileSync(good, `${good}.orig`);
    const hash = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
    const r = byId((await runDoctor(config('damaged', { store: good }), SEAMS)).results, 'log');
    expect(r.status).toBe('fail');
    expect(r.fix!.en).toContain('.recover');
    expect(hash(good)).toBe(hash(`${good}.orig`));
  }, 60_000);
});

describe('a config with mistakes', () => {
  it('fails the config check with every problem, as check-config lists them, and checks nothing else', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'site: { id: Bad Id, name: x }\nsensors: [{ id: wl1, kind: water_level, stages: { warning: 3, guaranteed: 2 } }]\n');
    const run = await runDoctor(file, SEAMS);
    expect(run.results).toHaveLength(1);
    expect(run.results[0]).toMatchObject({ id: 'config', status: 'fail', said: { en: `${run.configProblems.length} problems (below)` } });
    expect(run.configProblems.length).toBeGreaterThanOrEqual(2);
    expect(run.configProblems.some((l) => l.startsWith(`${file}: site.id: must match`))).toBe(true);
    expect(run.configProblems.some((l) => l.includes('sensors[0].stages.guaranteed'))).toBe(true);
  });
});

describe('the command', () => {
  it('prints one line per check in Chinese and English, the summary last, and exits 1 on a failure', async () => {
    const run = await runCli(['doctor', '--config', join(dir, 'stopped.yaml'), '--audio-device', 'null'], { timeoutMs: 90_000 });
    expect(run.code).toBe(1);
    for (const l of run.out.slice(0, -1)) expect(l).toMatch(/^[✓✗?–i] \S.* · .+: .+ · .+/);
    expect(run.out.find((l) => l.includes('Modbus gw1 unit 2'))).toMatch(/^✗ .* — 处理: .* · fix: /);
    expect(run.out.at(-1)).toMatch(/^有问题,见 ✗ 行 · problems found, see the ✗ lines: 通过 \d+ · \d+ passed, 失败 \d+ · \d+ failed/);
    const usage = await runCli(['doctor'], { timeoutMs: 30_000 });
    expect(usage.code).toBe(2);
    expect(usage.err[0]).toContain('usage: shaobing doctor --config SITE.yaml');
  }, 120_000);
});
