/**
 * The uplink's connection under the conditions a township link meets: a broker that refuses
 * MQTT 5 (Aedes), TLS (server-only, mutual, a CA that did not sign the server), an ACL that
 * refuses the box's events (PUBACK 0x87), a broker that stops answering mid-stream (SIGSTOP),
 * and one that accepts TCP but never answers CONNECT — while the box keeps sounding sirens.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { record } from '../../gateway/shell/record.ts';
import { CURSOR_KEY } from '../../gateway/uplink/uplink.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import type { Mosquitto } from '../helpers/mosquitto.ts';
import { makeTestCa } from '../helpers/tls-ca.ts';
import { BOX_PASS, BOX_USER, passwordFile, startTownship, subscribe, townshipAcl, type Subscriber } from '../helpers/township.ts';
import { until } from '../helpers/until.ts';

const FAST = { retryFirstMs: 100, retryMaxMs: 400, connectDeadlineMs: 1500, pubackDeadlineMs: 1000, cursorEveryMs: 50, statusEveryMs: 100 };
const uplinkYaml = (url: string, extra = ''): string => `uplink: { url: "${url}", username: ${BOX_USER}, password_file: ${passwordFile()}${extra} }`;

/** A pino logger whose lines land in `lines` (parsed). */
function capture(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream) as unknown as Logger, lines };
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function box(yaml: string, timings = FAST): Promise<BoxRig & { lines: Record<string, unknown>[] }> {
  const { log, lines } = capture();
  const rig = await startBoxRig(yaml, { uplinkTimings: timings, log });
  cleanups.push(() => rig.stop());
  return Object.assign(rig, { lines });
}
async function township(o: Parameters<typeof startTownship>[0] = {}): Promise<Mosquitto> {
  const m = await startTownship(o);
  cleanups.push(() => m.stop());
  return m;
}
async function consumer(url: string, opts: mqtt.IClientOptions = {}): Promise<Subscriber> {
  const s = await subscribe(url, 'itest', opts);
  cleanups.push(() => s.stop());
  return s;
}
const logSeqs = (r: BoxRig): number[] => r.box.store.since(0).map((e) => e.seq);

describe('uplink connection', () => {
  it('falls back to MQTT 3.1.1 when the broker refuses 5 (Aedes), and says so', async () => {
    const broker = await Aedes.createBroker();
    const server: Server = createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => broker.close(() => server.close(() => r()))));
    const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
    const town = await consumer(url, { protocolVersion: 4, clean: true, properties: undefined });
    const rig = await box(uplinkYaml(url));
    await until('online', () => rig.box.uplink!.state().online);
    record(rig.box.ctx, rig.box.store, 'note', { what: 'hello' });
    await until('events at the township', () => town.bySeq.size >= logSeqs(rig).length && rig.box.uplink!.state().events_waiting === 0);
    expect(rig.lines.some((l) => /refused MQTT 5/.test(String(l.msg)))).toBe(true);
    expect(rig.lines.find((l) => l.msg === 'uplink online')).toMatchObject({ protocol: 4 });
  });

  it('TLS, server-only: trusts the township\'s CA; a CA that did not sign the server is refused and retried', async () => {
    const ca = makeTestCa();
    const m = await township({ tls: { caFile: ca.caFile, certFile: ca.serverCert, keyFile: ca.serverKey, requireCertificate: false } });
    const url = `mqtts://127.0.0.1:${m.tlsPort}`;
    const good = await box(uplinkYaml(url, `, ca_file: ${ca.caFile}`));
    await until('online over TLS', () => good.box.uplink!.state().online);
    const bad = await box(uplinkYaml(url, `, ca_file: ${ca.otherCaFile}`));
    await until('two failed attempts', () => bad.lines.filter((l) => l.msg === 'uplink connection failed').length >= 2);
    expect(bad.box.uplink!.state().online).toBe(false);
    expect(JSON.stringify(bad.lines.find((l) => l.msg === 'uplink connection failed'))).toMatch(/certificate/i);
  });

  it('mutual TLS: the box\'s client certificate is required and accepted', async () => {
    const ca = makeTestCa();
    const m = await township({ tls: { caFile: ca.caFile, certFile: ca.serverCert, keyFile: ca.serverKey, requireCertificate: true } });
    const url = `mqtts://127.0.0.1:${m.tlsPort}`;
    const without = await box(uplinkYaml(url, `, ca_file: ${ca.caFile}`));
    const withCert = await box(uplinkYaml(url, `, ca_file: ${ca.caFile}, cert_file: ${ca.clientCert}, key_file: ${ca.clientKey}`));
    await until('online with a certificate', () => withCert.box.uplink!.state().online);
    await until('without one: refused and retried', () => without.lines.filter((l) => l.msg === 'uplink connection failed').length >= 2);
    expect(without.box.uplink!.state().online).toBe(false);
  });

  it('an MQTT 5 PUBACK 0x87 (the ACL refuses) is no ack: logged, the event kept and retried with backoff until the ACL is fixed', async () => {
    // Persistence: the consumer's session (and what it missed) survives the restart that fixes the ACL.
    const keep = mkdtempSync(join(tmpdir(), 'sb-mosq-keep-'));
    const m = await township({
      acl: [`user ${BOX_USER}`, 'topic read sb/v1/itest/cmd/#', 'topic write sb/v1/itest/status', 'user township', 'topic readwrite sb/v1/#'],
      extra: ['persistence true', `persistence_location ${keep}/`, 'max_queued_messages 0'],
    });
    const town = await consumer(m.url);
    const rig = await box(uplinkYaml(m.url));
    const up = rig.box.uplink!;
    await until('refused twice', () => up.counts.refusedEvents >= 2);
    const line = rig.lines.find((l) => typeof l.msg === 'string' && /refused event/.test(l.msg))!;
    expect(line).toMatchObject({ level: 50, reason_code: 135 });
    expect(String(line.msg)).toMatch(/ACL/);
    expect(up.state().last_ack_seq).toBe(0);
    expect(rig.box.store.metaNumber(CURSOR_KEY) ?? 0).toBe(0);
    expect(town.bySeq.size).toBe(0);
    writeFileSync(join(m.dir, 'acl'), `${townshipAcl().join('\n')}\n`);
    await m.restart();
    await until('everything after the fix', () => town.bySeq.size >= logSeqs(rig).length && up.state().events_waiting === 0, 20_000);
    expect([...town.bySeq.keys()]).toEqual(logSeqs(rig));
    // The password is read from its file and never logged, the effective-config line included.
    expect(rig.lines.some((l) => l.msg === 'effective config')).toBe(true);
    expect(JSON.stringify(rig.lines)).not.toContain(BOX_PASS);
  }, 40_000);

  it('a broker that stops answering (SIGSTOP) mid-stream: no PUBACK within the deadline = link dead; resumes from the cursor when it answers again', async () => {
    const m = await township();
    const town = await consumer(m.url);
    const rig = await box(uplinkYaml(m.url));
    const up = rig.box.uplink!;
    await until('online', () => up.state().online);
    m.pause();
    cleanups.push(() => m.resume());
    for (let i = 0; i < 500; i++) record(rig.box.ctx, rig.box.store, 'note', { what: 'while_hung', i });
    await until('declared dead', () => up.counts.pubackTimeouts >= 1 || !up.state().online, 15_000);
    m.resume();
    await until('everything once it answers', () => town.bySeq.size >= logSeqs(rig).length && up.state().events_waiting === 0, 30_000);
    expect([...town.bySeq.keys()].sort((a, b) => a - b)).toEqual(logSeqs(rig));
  }, 40_000);

  it('a broker that accepts TCP but never answers CONNECT: the box still sounds its sirens; the uplink retries within its deadline', async () => {
    const sockets: Socket[] = [];
    const hang = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      hang.close(() => r());
    }));
    const url = `mqtt://127.0.0.1:${(hang.address() as { port: number }).port}`;
    const rig = await box(uplinkYaml(url), { ...FAST, connectDeadlineMs: 300 });
    const relay = await rig.connect('siren1');
    const commands: string[] = [];
    relay.on('message', (t) => commands.push(t));
    await relay.subscribeAsync('sb/v1/itest/cmd/siren1', { qos: 1 });
    await until('the uplink is hanging in CONNECT', () => sockets.length >= 1);
    const dev = await rig.connect('wl1');
    await dev.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 3.6 }), { qos: 1 });
    await until('the siren relay got its command', () => commands.length > 0, 5000);
    await until('retried after deadlines', () => rig.lines.filter((l) => l.msg === 'uplink connection failed').length >= 3, 10_000);
    const fails = rig.lines.filter((l) => l.msg === 'uplink connection failed');
    expect(fails.map((l) => (l.err as { code: string }).code)).toEqual(fails.map(() => 'timeout'));
    expect(rig.box.uplink!.state()).toMatchObject({ online: false });
    expect(rig.box.uplink!.state().events_waiting).toBeGreaterThan(0);
  }, 30_000);
});
