/**
 * IP speakers through the running box (Aedes on loopback, SQLite, espeak-ng for real): an
 * officer's broadcast reaches the simulated MQTT speaker with the text and an audio URL; the
 * speaker fetches it and gets byte for byte the file the box rendered; the URL without its
 * token, with a wrong one, after the speaker is done or past the broadcast's time answers 401;
 * a broadcast whose audio cannot be rendered still goes out as text (503 for the audio).
 */
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../gateway/shell/clock.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { ActuatorSim } from '../../simulators/devices/actuator-sim.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { pw } from '../helpers/box-site.ts';
import { until } from '../helpers/until.ts';

const T = 'sb/v1/itest';
const silent = pino({ level: 'silent' });
const IP = 'ip_speakers: { host: 127.0.0.1, port: 0 }\nself_tests: { speaker_weekly: false, siren_monthly: false, reporting_daily: false }';

/** The system clock, with a skew tests move forward (the tokens' lifetimes run on the box's monotonic clock). */
function skewedClock(): Clock & { skewMs: number } {
  const real = systemClock();
  const c = { skewMs: 0, boot: real.boot, wall: () => real.wall() + c.skewMs, mono: () => real.mono() + c.skewMs, trusted: () => real.trusted() };
  return c;
}

async function officerBroadcast(wang: MqttClient, text: string, id: string): Promise<void> {
  await wang.publishAsync(`${T}/cmd/box`, JSON.stringify({ type: 'broadcast', text_zh: text, text_en: 'Leave for the shelter now.', zones: ['site'], command_id: id }), { qos: 1 });
}

const fetchStatus = async (url: string, init?: RequestInit): Promise<{ status: number; body: any; auth: string | null }> => {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text, auth: res.headers.get('www-authenticate') };
};

describe('an IP speaker gets the rendered broadcast', () => {
  let rig: BoxRig;
  let clock: ReturnType<typeof skewedClock>;
  let spk: ActuatorSim;
  let wang: MqttClient;

  beforeAll(async () => {
    clock = skewedClock();
    rig = await startBoxRig(IP, { clock });
    spk = new ActuatorSim({ url: rig.url, site: 'itest', id: 'spk1', password: pw('spk1'), log: silent }, 'speaker', 5);
    await spk.start();
    wang = await rig.connect('wang');
  });

  afterAll(async () => {
    await spk?.stop();
    await rig?.stop();
  });

  it('the command carries the text and the audio URL; the fetch is byte-identical to the file the box rendered', async () => {
    await officerBroadcast(wang, '请立即撤离到村委会避难所', 'b-1');
    const got = await until('the speaker fetched its audio', () => spk.fetched[0], 60_000);
    const cmd = spk.received.find((r) => r.command.type === 'broadcast')!.command as any;
    expect(cmd).toMatchObject({ type: 'broadcast', actuator: 'spk1', text_zh: '请立即撤离到村委会避难所', text_en: 'Leave for the shelter now.', chime: true, repeat: 1, activity: got.activity });
    expect(cmd.audio).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/audio\/[0-9a-f]{32}\.wav\?token=[A-Za-z0-9_-]{43}$/), format: 'wav', expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/) });
    expect(new URL(cmd.audio.url).port).toBe(String(rig.box.ipSpeakers!.port));
    expect([got.status, got.error]).toEqual([200, null]);
    const id = /\/audio\/([0-9a-f]{32})\.wav/.exec(got.url)![1]!;
    const onDisk = readFileSync(rig.box.ipSpeakers!.clip(id)!.path);
    expect(got.bytes!.equals(onDisk)).toBe(true);
    // The box's own format: a WAV of 22,050 Hz mono 16-bit PCM, several seconds long (chime and speech).
    expect(onDisk.toString('ascii', 0, 4)).toBe('RIFF');
    expect([onDisk.readUInt16LE(20), onDisk.readUInt16LE(22), onDisk.readUInt32LE(24), onDisk.readUInt16LE(34)]).toEqual([1, 1, 22_050, 16]);
    expect(onDisk.length).toBeGreaterThan(22_050 * 2 * 3);
    // The speaker reported done: its channel is free, and the box logged the broadcast with who.
    await until('the done report freed the speaker', () => rig.box.engine.read((c) => c.planner.channels.get('spk1')!.current === null));
    expect(rig.box.store.since(0).some((e) => e.type === 'effect' && (e.payload as any).type === 'broadcast' && (e.payload as any).by === 'wang')).toBe(true);
  });

  it('without the token, with a wrong one, or one for another clip: 401, the clip not looked at', async () => {
    const url = new URL(spk.fetched[0]!.url);
    const bare = `${url.origin}${url.pathname}`;
    const missing = await fetchStatus(bare);
    expect([missing.status, missing.body.error, missing.auth]).toEqual([401, 'token_missing', 'Bearer realm="shaobing-audio", error="invalid_token"']);
    expect((await fetchStatus(`${bare}?token=${'A'.repeat(43)}`)).body).toMatchObject({ error: 'token_invalid' });
    expect((await fetchStatus(bare, { headers: { authorization: `Bearer ${'B'.repeat(43)}` } })).status).toBe(401);
    // The right token on another clip's path opens nothing (and says nothing of whether that clip exists).
    expect((await fetchStatus(`${url.origin}/audio/${'0'.repeat(32)}.wav${url.search}`)).body).toMatchObject({ error: 'token_invalid' });
    expect((await fetchStatus(`${url.origin}/nothing`)).status).toBe(404);
    expect((await fetchStatus(url.href, { method: 'POST' })).status).toBe(405);
  });

  it('once the speaker reported done, its token has expired', async () => {
    const r = await fetchStatus(spk.fetched[0]!.url);
    expect([r.status, r.body.error]).toEqual([401, 'token_expired']);
  });

  it('a speaker that never reports done: its token works until the broadcast time is over (broadcast_max_s), then 401 token_expired; the Bearer header works too', async () => {
    const mute = await rig.connect('spk1');
    const commands: any[] = [];
    mute.on('message', (_t, p) => commands.push(JSON.parse(p.toString())));
    await mute.subscribeAsync(`${T}/cmd/spk1`, { qos: 1 });
    await spk.stop(); // the simulated speaker leaves; this client takes its commands and never answers
    await officerBroadcast(wang, '河水上涨,请远离河道', 'b-2');
    const cmd = await until('the mute speaker got its command', () => commands.find((c) => c.type === 'broadcast' && c.text_zh === '河水上涨,请远离河道'), 30_000);
    const url = new URL(cmd.audio.url);
    const token = url.searchParams.get('token')!;
    const ok = await fetch(`${url.origin}${url.pathname}`, { headers: { authorization: `Bearer ${token}` } });
    expect([ok.status, ok.headers.get('content-type')]).toEqual([200, 'audio/wav']);
    await ok.arrayBuffer();
    clock.skewMs += rig.box.ctx.config.actions.broadcastMaxS * 1000 + 1000;
    const late = await fetchStatus(url.href);
    expect([late.status, late.body.error]).toEqual([401, 'token_expired']);
  });
});

describe('rendering fails', () => {
  let rig: BoxRig;
  let spk: ActuatorSim;

  beforeAll(async () => {
    // A TTS command that cannot run: every broadcast's audio fails to render.
    rig = await startBoxRig(`${IP}\naudio: { tts: { command: /nonexistent/espeak-ng } }`);
    spk = new ActuatorSim({ url: rig.url, site: 'itest', id: 'spk1', password: pw('spk1'), log: silent }, 'speaker', 5);
    await spk.start();
  });

  afterAll(async () => {
    await spk?.stop();
    await rig?.stop();
  });

  it('the text still goes out; the audio answers 503 render_failed and the speaker speaks the text itself, then reports done', async () => {
    const wang = await rig.connect('wang');
    await officerBroadcast(wang, '请立即撤离', 'b-3');
    const got = await until('the speaker tried its audio', () => spk.fetched[0], 60_000);
    expect([got.status, got.error, got.bytes]).toEqual([503, 'render_failed', null]);
    expect(spk.received.find((r) => r.command.type === 'broadcast')!.command).toMatchObject({ text_zh: '请立即撤离', audio: { format: 'wav' } });
    await until('the done report freed the speaker', () => rig.box.engine.read((c) => c.planner.channels.get('spk1')!.current === null));
  });
});

describe('without ip_speakers', () => {
  it('commands carry the text only', async () => {
    const rig = await startBoxRig('self_tests: { speaker_weekly: false, siren_monthly: false, reporting_daily: false }');
    const spk = new ActuatorSim({ url: rig.url, site: 'itest', id: 'spk1', password: pw('spk1'), log: silent }, 'speaker', 5);
    try {
      await spk.start();
      expect(rig.box.ipSpeakers).toBeNull();
      await officerBroadcast(await rig.connect('wang'), '测试', 'b-4');
      const cmd = await until('the speaker got its command', () => spk.received.find((r) => r.command.type === 'broadcast'));
      expect(cmd.command.audio).toBeUndefined();
      expect(spk.fetched).toEqual([]);
    } finally {
      await spk.stop();
      await rig.stop();
    }
  });
});
