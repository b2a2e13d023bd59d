/**
 * A restart keeps what officers did (issue 14, part 4): the running box in its own process
 * (test/helpers/box-kill9-child.ts, fake clocks) is killed with SIGKILL in the middle of each
 * situation and started again on the same log, 30 s of wall time later.
 *
 * - a silenced red alarm stays red and silent (no siren, no new alert, no repeated broadcast);
 * - an acknowledged alert stays acknowledged, and its siren, still within its pattern, starts again;
 * - a drill is still a drill (its light is lit again, and drill_end ends it);
 * - a river rising fast keeps its rise window and its rise alert;
 * - a smoke pre-alarm is confirmed by a second detector after the restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READING_FLUSH_MS } from '../../gateway/store/event-store.ts';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { pw } from '../helpers/box-site.ts';

const CHILD = fileURLToPath(new URL('../helpers/box-kill9-child.ts', import.meta.url));
const T0 = Date.parse('2026-07-20T14:00:00+08:00');
const DOWN_MS = 30_000;
const dir = mkdtempSync(join(tmpdir(), 'sb-kill9-restore-'));
const running = new Set<ChildProcess>();
afterEach(() => {
  // A failed test leaves its box running: it must not hold the test run open.
  for (const c of running) c.kill('SIGKILL');
  running.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ev {
  seq: number;
  type: string;
  payload: Record<string, unknown>;
}
interface State {
  active: { alert: string; kind: string; level: string; rule: string; acknowledgedBy: string | null }[];
  events: Ev[];
}

/** One box process; `t` mirrors its fake monotonic clock. */
class BoxChild {
  t = 0;
  private readonly waiting: ((line: string) => boolean)[] = [];
  private readonly clients: MqttClient[] = [];
  private constructor(
    private readonly child: ChildProcess,
    readonly wallStart: number,
    readonly port: number,
  ) {}

  static async start(db: string, wallStart: number): Promise<BoxChild> {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, db, String(wallStart)], { stdio: ['pipe', 'pipe', 'inherit'] });
    running.add(child);
    child.on('close', () => running.delete(child));
    let out = '';
    let box: BoxChild | null = null;
    const port = await new Promise<number>((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`box child exited (${code})`)));
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        let nl: number;
        while ((nl = out.indexOf('\n')) >= 0) {
          const line = out.slice(0, nl);
          out = out.slice(nl + 1);
          if (line.startsWith('ready ')) resolve(Number(line.slice(6)));
          else if (box) box.waiting.splice(0, box.waiting.findIndex((w) => w(line)) + 1);
        }
      });
    });
    box = new BoxChild(child, wallStart, port);
    return box;
  }

  private ask(cmd: string, prefix: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting.push((line) => line.startsWith(prefix) && (resolve(line.slice(prefix.length)), true));
      this.child.stdin!.write(`${cmd}\n`);
    });
  }

  async advance(ms: number): Promise<void> {
    this.t = Number(await this.ask(`advance ${ms}`, 'ok '));
  }

  async state(): Promise<State> {
    return JSON.parse(await this.ask('state', 'state ')) as State;
  }

  /** Polls the box's state until `ok` holds. */
  async until(what: string, ok: (s: State) => boolean): Promise<State> {
    const end = Date.now() + 15_000;
    for (;;) {
      const s = await this.state();
      if (ok(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s.events.map((e) => [e.type, e.payload.type ?? e.payload.transition]))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async client(user: string): Promise<MqttClient> {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${this.port}`, { protocolVersion: 4, username: user, password: pw(user), reconnectPeriod: 0 });
    this.clients.push(c);
    return c;
  }

  async read(sensor: string, value: number | string): Promise<void> {
    const c = this.clients.find((x) => x.options.username === sensor) ?? (await this.client(sensor));
    await c.publishAsync(`sb/v1/itest/sensor/${sensor}/reading`, JSON.stringify({ value }), { qos: 1 });
  }

  async command(c: Record<string, unknown>): Promise<void> {
    const officer = this.clients.find((x) => x.options.username === 'wang') ?? (await this.client('wang'));
    await officer.publishAsync('sb/v1/itest/cmd/box', JSON.stringify(c), { qos: 1 });
  }

  /** SIGKILL, after the raw readings' batch (READING_FLUSH_MS) had its chance to reach the log. */
  async kill(): Promise<number> {
    await new Promise((r) => setTimeout(r, READING_FLUSH_MS + 300));
    for (const c of this.clients) c.end(true);
    const closed = new Promise((r) => this.child.once('close', r));
    this.child.kill('SIGKILL');
    await closed;
    return this.wallStart + this.t + DOWN_MS;
  }
}

const effects = (s: State, type: string): Record<string, unknown>[] => s.events.filter((e) => e.type === 'effect' && e.payload.type === type).map((e) => e.payload);
const transitions = (s: State): Record<string, unknown>[] => s.events.filter((e) => e.type === 'transition').map((e) => e.payload);
const danger = (s: State): State['active'] => s.active.filter((a) => a.kind !== 'fault');

describe('a restart after kill -9 keeps what officers did', () => {
  it('a silenced red alarm stays silent and red', async () => {
    const db = join(dir, 'silenced.db');
    const a = await BoxChild.start(db, T0);
    await a.read('wl1', 3.6);
    const raised = await a.until('the red alarm and its siren', (s) => effects(s, 'siren').length > 0);
    const id = danger(raised)[0]!.alert;
    expect(danger(raised)).toMatchObject([{ level: 'red', rule: 'stage_historical_max' }]);
    await a.command({ type: 'silence' });
    await a.until('the siren silenced', (s) => effects(s, 'siren_off').some((e) => e.reason === 'silenced'));
    await a.advance(5_000);
    const b = await BoxChild.start(db, await a.kill());
    await b.read('wl1', 3.65);
    await b.advance(10_000);
    await b.read('wl1', 3.7);
    await new Promise((r) => setTimeout(r, 300));
    const s = await b.state();
    expect(danger(s)).toEqual([expect.objectContaining({ alert: id, level: 'red' })]);
    expect(effects(s, 'siren')).toEqual([]);
    expect(effects(s, 'broadcast')).toEqual([]);
    expect(transitions(s)).toEqual([]);
    await b.kill();
  }, 60_000);

  it('an acknowledged alert stays acknowledged; its siren, still within its pattern, starts again; its broadcast is not repeated', async () => {
    const db = join(dir, 'acked.db');
    const a = await BoxChild.start(db, T0);
    await a.read('wl1', 3.6);
    const raised = await a.until('the red alarm', (s) => danger(s).length > 0);
    const id = danger(raised)[0]!.alert;
    await a.command({ type: 'ack', alert: id });
    await a.until('the acknowledgement', (s) => transitions(s).some((t) => t.transition === 'acknowledged'));
    const b = await BoxChild.start(db, await a.kill());
    const s = await b.until('the resumed siren', (x) => effects(x, 'siren').length > 0);
    expect(danger(s)).toEqual([expect.objectContaining({ alert: id, level: 'red', acknowledgedBy: 'wang' })]);
    expect(effects(s, 'siren')).toEqual([expect.objectContaining({ alert: id, pattern: 'air_raid_alarm', drill: false })]);
    expect(effects(s, 'broadcast')).toEqual([]);
    // Acknowledged: the alarm light is steady, not flashing, and the buzzer is off.
    expect(effects(s, 'indicator')).toEqual([expect.objectContaining({ indicator: 'alarm', state: 'on' })]);
    expect(transitions(s)).toEqual([]);
    await b.kill();
  }, 60_000);

  it('a drill is still a drill', async () => {
    const db = join(dir, 'drill.db');
    const a = await BoxChild.start(db, T0);
    await a.command({ type: 'drill' });
    await a.until('the drill', (s) => effects(s, 'indicator').some((e) => e.indicator === 'drill' && e.state === 'on'));
    await a.advance(20_000);
    const b = await BoxChild.start(db, await a.kill());
    const s = await b.until('the drill light again', (x) => effects(x, 'indicator').some((e) => e.indicator === 'drill' && e.state === 'on'));
    // The drill's own siren is not resumed (drills never are, after a pre-emption either).
    expect(effects(s, 'siren')).toEqual([]);
    await b.command({ type: 'drill_end' });
    await b.until('the drill ended', (x) => effects(x, 'indicator').some((e) => e.indicator === 'drill' && e.state === 'off'));
    await b.kill();
  }, 60_000);

  it('a river rising fast keeps its rise window and its rise alert', async () => {
    const db = join(dir, 'rise.db');
    const a = await BoxChild.start(db, T0);
    // 0.02 m every 10 s: 1.2 m in 10 minutes, over the orange rise threshold (0.5 m) once half a window is seen.
    let level = 1;
    for (let i = 0; i <= 42; i++) {
      await a.read('wl1', Math.round(level * 100) / 100);
      level += 0.02;
      await a.advance(10_000);
    }
    const before = await a.until('the rise alert', (s) => danger(s).some((x) => x.rule === 'rise'));
    const rise = danger(before).find((x) => x.rule === 'rise')!;
    expect(rise.level).toBe('orange');
    const b = await BoxChild.start(db, await a.kill());
    for (let i = 0; i < 6; i++) {
      level += 0.02;
      await b.read('wl1', Math.round(level * 100) / 100);
      await b.advance(10_000);
    }
    await new Promise((r) => setTimeout(r, 300));
    const s = await b.state();
    expect(danger(s)).toEqual([expect.objectContaining({ alert: rise.alert, level: 'orange', rule: 'rise' })]);
    // Nothing raised anew, nothing cleared for want of history.
    expect(transitions(s)).toEqual([]);
    await b.kill();
  }, 90_000);

  it('a smoke pre-alarm is confirmed by a second detector after the restart', async () => {
    const db = join(dir, 'smoke.db');
    const a = await BoxChild.start(db, T0);
    await a.read('sm1', 'alarm');
    const pre = await a.until('the pre-alarm', (s) => danger(s).length > 0);
    expect(danger(pre)).toMatchObject([{ level: 'yellow', rule: 'smoke_pre_alarm' }]);
    const b = await BoxChild.start(db, await a.kill());
    await b.read('sm2', 'alarm');
    const s = await b.until('the confirmed fire', (x) => transitions(x).length > 0);
    expect(transitions(s)).toEqual([expect.objectContaining({ transition: 'escalated', alert: danger(pre)[0]!.alert, level: 'red', rule: 'smoke_two_detectors' })]);
    await b.kill();
  }, 60_000);
});
