/**
 * The physical panel's real path: the box's own opener (firmata-io over serialport 13) on a
 * real pseudo-terminal (socat), a simulated Uno with StandardFirmata on the other end
 * (firmata-device.ts), a real box, and a real Mosquitto as the township for the uplink LED.
 * Pulling the cable is killing socat; plugging it back, starting it again.
 *
 * Also: a config pointing at a serial port that does not exist — the box starts, says so once,
 * and keeps running.
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../gateway/store/types.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { panelClient } from '../helpers/panel-client.ts';
import { FIRMWARE_NAME, FirmataDevice, MODE } from '../helpers/firmata-device.ts';
import type { Mosquitto } from '../helpers/mosquitto.ts';
import { ptyPair, type PtyPair } from '../helpers/serial-pty.ts';
import { BOX_USER, passwordFile, startTownship } from '../helpers/township.ts';
import { until } from '../helpers/until.ts';

const T = 'sb/v1/itest';
const FAST_UPLINK = { retryFirstMs: 100, retryMaxMs: 400, connectDeadlineMs: 2000, pubackDeadlineMs: 2000, cursorEveryMs: 50, statusEveryMs: 100 };
const PANEL = { retry: { firstMs: 100, maxMs: 400 }, blinkMs: 100, heartbeatMs: 300, heartbeatTimeoutMs: 3000, readyTimeoutMs: 8000 };

const hwOf = (rig: BoxRig, action: string, after = 0): Record<string, unknown>[] =>
  rig.box.store
    .since(after)
    .filter((e: StoredEvent) => e.type === 'panel_hw')
    .map((e) => e.payload as Record<string, unknown>)
    .filter((p) => p.action === action);
const commandsOf = (rig: BoxRig, type: string, after = 0): Record<string, any>[] =>
  rig.box.store
    .since(after)
    .filter((e) => e.type === 'command')
    .map((e) => e.payload as Record<string, any>)
    .filter((p) => p.command.type === type);
const lastSeq = (rig: BoxRig): number => rig.box.store.since(0).at(-1)?.seq ?? 0;

/** The box's status (retained, then as it changes) once `ok` says yes; rejects after `ms`. */
async function statusWhere(rig: BoxRig, ok: (s: { problems: string[] }) => boolean, ms = 20_000): Promise<{ problems: string[] }> {
  const c = await rig.connect('wang');
  try {
    const got = new Promise<{ problems: string[] }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the status')), ms);
      c.on('message', (t, p) => {
        const s = JSON.parse(p.toString()) as { problems: string[] };
        if (t === `${T}/status` && ok(s)) {
          clearTimeout(timer);
          resolve(s);
        }
      });
    });
    await c.subscribeAsync(`${T}/status`, { qos: 1 });
    return await got;
  } finally {
    await c.endAsync();
  }
}

/** Log lines as JSON, kept for the test to read. */
function logSink(): { log: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream) as Logger, lines };
}

describe('physical panel over a serial line (firmata-io, serialport, a pty)', () => {
  let pty: PtyPair;
  let device: FirmataDevice;
  let mosq: Mosquitto;
  let rig: BoxRig;

  beforeAll(async () => {
    pty = ptyPair();
    await pty.start();
    device = new FirmataDevice(pty.a);
    await device.open();
    mosq = await startTownship();
    const yaml = `panel_hw: { port: '${pty.b}', hold_s: 1, debounce_ms: 20 }\nuplink: { url: "${mosq.url}", username: ${BOX_USER}, password_file: ${passwordFile()} }`;
    rig = await startBoxRig(yaml, { panelHw: PANEL, uplinkTimings: FAST_UPLINK });
  }, 60_000);

  afterAll(async () => {
    await rig?.stop();
    await device?.close();
    await pty?.dispose();
    await mosq?.stop();
  });

  it('connects through the Firmata handshake and sets the pins up (PULLUP inputs, PWM alarm LED, power on)', async () => {
    // firmata-io asks for the version after 2.5 s when the board did not say it (a real Uno says it after its reset).
    const connected = await until('connected', () => hwOf(rig, 'connected')[0], 30_000);
    expect(connected).toMatchObject({ port: pty.b, firmware: `${FIRMWARE_NAME} 2.5` });
    expect(device.asked).toEqual(expect.arrayContaining(['version', 'firmware', 'capabilities', 'analog_mapping']));
    // The pin setup is on its way over the line when the box logs the connect: wait for the device to have it.
    await until('pins set up on the device', () => device.out.get(13) === 1 && device.reporting.size === 2);
    for (const pin of [2, 4, 7, 8]) expect(device.modes.get(pin)).toBe(MODE.PULLUP);
    expect([...device.reporting].sort()).toEqual([0, 1]);
    for (const pin of [9, 10, 11]) expect(device.modes.get(pin)).toBe(MODE.PWM);
    for (const pin of [5, 6, 12, 13, 14]) expect(device.modes.get(pin)).toBe(MODE.OUTPUT);
  });

  it('the uplink LED: on while the township link is up, blinking while it is down', async () => {
    await until('uplink online', () => rig.box.uplink?.state().online === true, 20_000);
    await until('uplink LED on', () => device.out.get(12) === 1);
    await mosq.stop();
    await until('uplink offline', () => rig.box.uplink?.state().online === false, 20_000);
    const before = device.history.get(12)?.length ?? 0;
    // Blinking: it goes off and on again while the link is down.
    await until('uplink LED blinking', () => (device.history.get(12)?.length ?? 0) >= before + 3);
    await mosq.restart();
    await until('uplink online again', () => rig.box.uplink?.state().online === true, 20_000);
    await until('uplink LED steady on', () => device.out.get(12) === 1);
  });

  it('a hold of the emergency button broadcasts, a fire lights red on PWM and sounds the buzzer', async () => {
    const from = lastSeq(rig);
    device.press(2, true);
    const cmd = await until('broadcast', () => commandsOf(rig, 'broadcast', from)[0]);
    device.press(2, false);
    expect(cmd).toMatchObject({ by: 'panel-hw', via: 'panel_hw', command: { emergency: true }, result: { ok: true } });
    // Every input's mode was set before its port's reporting was turned on: no button read pressed at connect.
    expect(hwOf(rig, 'stuck_at_connect')).toEqual([]);

    const sm1 = await rig.connect('sm1');
    const sm2 = await rig.connect('sm2');
    await sm1.publishAsync(`${T}/sensor/sm1/reading`, JSON.stringify({ value: 'alarm' }), { qos: 1 });
    await sm2.publishAsync(`${T}/sensor/sm2/reading`, JSON.stringify({ value: 'alarm' }), { qos: 1 });
    await until('red at full duty', () => device.out.get(9) === 255 && device.out.get(10) === 0 && device.out.get(11) === 0);
    await until('buzzer on', () => device.out.get(5) === 1);
    // The silence button through the real line.
    const s = lastSeq(rig);
    device.press(4, true);
    await until('silence', () => commandsOf(rig, 'silence', s).length === 1);
    device.press(4, false);
    await until('buzzer off', () => device.out.get(5) === 0);
  });

  it('cable pulled: lost, logged once; plugged back: connected again and the buttons work', async () => {
    const from = lastSeq(rig);
    await device.close();
    await pty.kill();
    await until('lost', () => hwOf(rig, 'lost', from).length === 1, 20_000);
    // The box's status says so (the panel's home screen shows it in words).
    expect(rig.box.panelHw!.problems()).toEqual(['panel_hw_disconnected']);
    expect((await statusWhere(rig, (st) => st.problems.length > 0)).problems).toEqual(['panel_hw_disconnected']);
    const failures = rig.box.panelHw!.state().failures;
    await until('retries failing', () => rig.box.panelHw!.state().failures >= failures + 3, 20_000);
    expect(hwOf(rig, 'lost', from)).toHaveLength(1);
    expect(hwOf(rig, 'absent', from)).toEqual([]);

    await pty.start();
    device = new FirmataDevice(pty.a);
    await device.open();
    await until('connected again', () => hwOf(rig, 'connected', from).length === 1, 30_000);
    expect(rig.box.panelHw!.state()).toMatchObject({ connected: true, connects: 2 });
    expect(rig.box.panelHw!.problems()).toEqual([]);
    await statusWhere(rig, (st) => st.problems.length === 0);
    await until('power LED on again', () => device.out.get(13) === 1);
    const s = lastSeq(rig);
    device.press(7, true);
    await until('ack-all after replug', () => commandsOf(rig, 'ack', s).length >= 1 || hwOf(rig, 'ack_all', s).length === 1);
    device.press(7, false);
  }, 90_000);

  it('a board that stops answering with its port still open (hung, no power) is lost by the heartbeat, and back when it answers', async () => {
    const from = lastSeq(rig);
    device.hung = true;
    const lost = await until('lost by the heartbeat', () => hwOf(rig, 'lost', from)[0], 20_000);
    expect(lost.reason).toMatch(/no answer from the board/);
    expect(rig.box.panelHw!.state().connected).toBe(false);
    device.hung = false;
    await until('connected again', () => hwOf(rig, 'connected', from).length === 1, 30_000);
    expect(hwOf(rig, 'lost', from)).toHaveLength(1);
  }, 60_000);
});

describe('physical panel on a serial port that does not exist', () => {
  let rig: BoxRig;
  const sink = logSink();

  beforeAll(async () => {
    rig = await startBoxRig("panel_hw: { port: '/dev/shaobing-no-such-panel' }\npanel: { host: 127.0.0.1, port: 0 }", { panelHw: PANEL, log: sink.log });
  });

  afterAll(async () => rig?.stop());

  it('the box starts and runs; the absent panel is logged once (a warning and one event), its retries only at debug', async () => {
    await until('several failed opens', () => rig.box.panelHw!.state().failures >= 4, 20_000);
    expect(rig.box.panelHw!.state().connected).toBe(false);
    expect((await statusWhere(rig, (st) => st.problems.length > 0)).problems).toEqual(['panel_hw_disconnected']);
    // The touchscreen's state says it in words.
    const officer = panelClient(rig.panelUrl!);
    await officer.signIn('wang');
    const state = (await (await officer.req('GET', '/api/state')).json()) as { problems: string[]; problem_texts: unknown[] };
    expect(state.problems).toEqual(['panel_hw_disconnected']);
    expect(state.problem_texts).toEqual([{ code: 'panel_hw_disconnected', text_zh: '实体控制面板未连接(请检查 USB 线),触摸屏照常可用', text_en: expect.stringMatching(/^the physical control panel is not connected/) }]);
    const absent = hwOf(rig, 'absent');
    expect(absent).toHaveLength(1);
    expect(absent[0]).toMatchObject({ port: '/dev/shaobing-no-such-panel', error: expect.stringMatching(/cannot open \/dev\/shaobing-no-such-panel/) });
    const mine = sink.lines.filter((l) => l.module === 'panel_hw');
    const loud = mine.filter((l) => l.level >= 40);
    expect(loud).toHaveLength(1);
    expect(loud[0]!.msg).toMatch(/physical panel not connected/);
    expect(mine.filter((l) => l.msg === 'physical panel still not connected').length).toBeGreaterThanOrEqual(3);
    // Not a module failure for the supervisor either.
    expect(sink.lines.filter((l) => l.msg === 'module failed to start; retrying')).toEqual([]);
    // The box works: an officer's command is carried out.
    const wang = await rig.connect('wang');
    const results: any[] = [];
    await wang.subscribeAsync(`${T}/cmd/box/result`, { qos: 1 });
    wang.on('message', (_t, p) => results.push(JSON.parse(p.toString())));
    await wang.publishAsync(`${T}/cmd/box`, JSON.stringify({ type: 'test', command_id: 'still-here' }), { qos: 1 });
    expect(await until('result', () => results.find((r) => r.command_id === 'still-here'))).toMatchObject({ ok: true });
  });
});
