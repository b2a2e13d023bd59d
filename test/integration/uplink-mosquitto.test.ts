/**
 * The township uplink against a real Mosquitto (password file, an ACL giving the box only its
 * site's tree): the running box forwards its log, live alarms carry `live: true`, the status is
 * retained, township commands are checked, and an outage in the middle of a burst loses nothing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BoxCommand, CommandMeta, CommandResult } from '../../gateway/shell/bus.ts';
import { record } from '../../gateway/shell/record.ts';
import { CURSOR_KEY } from '../../gateway/uplink/uplink.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import type { Mosquitto } from '../helpers/mosquitto.ts';
import { BOX_USER, passwordFile, startTownship, subscribe, TOWN_PASS, TOWN_USER, type Subscriber } from '../helpers/township.ts';
import { until } from '../helpers/until.ts';

const FAST = { retryFirstMs: 100, retryMaxMs: 400, connectDeadlineMs: 2000, pubackDeadlineMs: 2000, cursorEveryMs: 50, statusEveryMs: 100 };
const uplinkYaml = (url: string, extra = ''): string => `uplink: { url: "${url}", username: ${BOX_USER}, password_file: ${passwordFile()}${extra} }`;

let mosq: Mosquitto;
let rig: BoxRig | null = null;
let town: Subscriber | null = null;
beforeAll(async () => {
  mosq = await startTownship();
}, 30_000);
afterEach(async () => {
  await town?.stop();
  await rig?.stop();
  rig = town = null;
});
afterAll(async () => {
  await mosq?.stop();
});

/** The seqs the log holds (this box), ascending. */
const logSeqs = (r: BoxRig): number[] => r.box.store.since(0).map((e) => e.seq);

describe('township uplink (Mosquitto)', () => {
  it('forwards every logged event with the envelope, in seq order, advances the persisted cursor, and says online (retained)', async () => {
    town = await subscribe(mosq.url);
    rig = await startBoxRig(uplinkYaml(mosq.url), { uplinkTimings: FAST });
    for (let i = 0; i < 50; i++) record(rig.box.ctx, rig.box.store, 'note', { what: 'test_note', i, someField: 'x' });
    await until('all events at the township', () => town!.bySeq.size >= logSeqs(rig!).length && rig!.box.uplink!.state().events_waiting === 0);
    const seqs = [...town.bySeq.keys()];
    expect(seqs).toEqual(logSeqs(rig));
    const note = [...town.bySeq.values()].find((e) => e.type === 'note' && e.i === 7)!;
    expect(note).toMatchObject({ site: 'itest', boot: rig.box.ctx.clock.boot, clock_trusted: true, type: 'note', live: true, what: 'test_note', i: 7, some_field: 'x' });
    expect(note.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    const start = town.bySeq.get(seqs[0]!)!;
    expect(start.type).toBe('start');
    await until('cursor persisted', () => rig!.box.store.metaNumber(CURSOR_KEY) === seqs.at(-1));
    expect(JSON.parse(town.other.get('sb/v1/itest/status')!)).toMatchObject({ state: 'online', boot: rig.box.ctx.clock.boot });
    const st = rig.box.uplink!.state();
    expect(st).toMatchObject({ online: true, offline_since: null, events_waiting: 0, oldest_waiting_at: null, last_ack_seq: seqs.at(-1) });
  });

  it('a red/orange alert goes out live, its effect type prefixed, and the box\'s status carries the uplink state', async () => {
    town = await subscribe(mosq.url);
    rig = await startBoxRig(uplinkYaml(mosq.url), { uplinkTimings: FAST });
    const statuses: unknown[] = [];
    rig.box.ctx.bus.on('status', (s) => statuses.push(s));
    await until('online', () => rig!.box.uplink!.state().online);
    const dev = await rig.connect('wl1');
    await dev.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 3.2 }), { qos: 1 });
    const raised = await until('orange alert at the township', () => [...town!.bySeq.values()].find((e) => e.type === 'transition' && e.transition === 'raised'));
    expect(raised).toMatchObject({ level: 'orange', live: true, kind: 'water_level' });
    expect(typeof raised.transition_at).toBe('number'); // the engine's `at`, kept apart from the envelope's
    const effect = await until('the siren effect', () => [...town!.bySeq.values()].find((e) => e.type === 'effect' && e.effect_type === 'siren'));
    expect(effect.live).toBe(true);
    await until('status with uplink state', () => statuses.find((s) => (s as { uplink?: { online: boolean } }).uplink?.online === true));
  });

  it('an outage in the middle of a burst: every event exactly once after dedupe, in seq order; the status says offline meanwhile', async () => {
    // The township's own broker keeps its consumer's session across its restart (persistence,
    // no queue limit), so the consumer misses nothing of what the broker took while it was away.
    await mosq.stop();
    const keep = mkdtempSync(join(tmpdir(), 'sb-mosq-keep-'));
    mosq = await startTownship({ extra: ['persistence true', `persistence_location ${keep}/`, 'autosave_interval 1'] });
    town = await subscribe(mosq.url);
    // Events older than 300 ms when sent are catch-up (live: false).
    rig = await startBoxRig(uplinkYaml(mosq.url), { uplinkTimings: { ...FAST, liveWithinMs: 300 } });
    const up = rig.box.uplink!;
    await until('online', () => up.state().online);
    const burst = (n: number, from: number): void => {
      for (let i = 0; i < n; i++) record(rig!.box.ctx, rig!.box.store, 'note', { what: 'burst', i: from + i });
    };
    burst(2000, 0);
    await until('some of the burst arrived', () => town!.bySeq.size > 200, 20_000, 1);
    await mosq.stop();
    burst(3000, 2000);
    await until('offline', () => !up.state().online);
    const off = up.state();
    expect(off.events_waiting).toBeGreaterThan(0);
    expect(off.offline_since).toMatch(/\+08:00$/);
    expect(off.oldest_waiting_at).toMatch(/\+08:00$/);
    burst(1000, 5000);
    // A red alert raised while the township is away (the real path: the probe's reading).
    const dev = await rig.connect('wl1');
    await dev.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 3.6 }), { qos: 1 });
    const raisedSeq = await until('the alert logged', () => rig!.box.store.since(0).find((e) => e.type === 'transition' && (e.payload as { transition: string }).transition === 'raised')?.seq);
    const receivedBeforeRestart = town.raw.length;
    await new Promise((r) => setTimeout(r, 500));
    await mosq.restart();
    burst(1000, 6000);
    await until('every event at the township', () => up.state().events_waiting === 0 && town!.bySeq.size >= logSeqs(rig!).length, 60_000).catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(up.state())} town ${town!.bySeq.size} log ${logSeqs(rig!).length} ${JSON.stringify(up.counts)}`);
    });
    const all = logSeqs(rig);
    expect([...town.bySeq.keys()].sort((a, b) => a - b)).toEqual(all);
    // In seq order: the first copy of each seq came after every lower seq's first copy, except
    // what was sent live and the urgent events the live lane sent ahead of the backlog.
    const urgent = (e: { type: string; transition?: unknown; level?: unknown }): boolean => e.type === 'transition' && (e.transition === 'raised' || e.transition === 'escalated') && (e.level === 'red' || e.level === 'orange');
    const firstSeen = town.raw.filter((e, i) => town!.raw.findIndex((x) => x.seq === e.seq) === i && !e.live && !urgent(e)).map((e) => e.seq);
    expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
    expect(town.raw.some((e) => e.live === false)).toBe(true);
    // Live first: after the outage the alert came ahead of the backlog logged before it.
    const afterRestart = town.raw.slice(receivedBeforeRestart);
    const at = afterRestart.findIndex((e) => e.seq === raisedSeq);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(afterRestart.slice(at + 1).filter((e) => e.seq < raisedSeq).length).toBeGreaterThan(1000);
    expect(afterRestart[at]).toMatchObject({ type: 'transition', level: 'red', live: false }); // it waited out the outage
  }, 90_000);

  it('a slow consumer does not slow the box: the broker acknowledges, the box drains, the consumer catches up with every event', async () => {
    town = await subscribe(mosq.url);
    rig = await startBoxRig(uplinkYaml(mosq.url), { uplinkTimings: FAST });
    const up = rig.box.uplink!;
    await until('online', () => up.state().online);
    // The consumer stops reading its socket (a township process that hangs).
    const stream = (town.client as unknown as { stream: { pause(): void; resume(): void } }).stream;
    stream.pause();
    for (let i = 0; i < 3000; i++) record(rig.box.ctx, rig.box.store, 'note', { what: 'for_a_slow_consumer', i });
    await until('the box drained meanwhile', () => up.state().events_waiting === 0, 30_000);
    const whilePaused = town.bySeq.size;
    expect(whilePaused).toBeLessThan(logSeqs(rig).length);
    stream.resume();
    await until('the consumer caught up', () => town!.bySeq.size >= logSeqs(rig!).length, 30_000);
    expect([...town.bySeq.keys()]).toEqual(logSeqs(rig));
  }, 60_000);

  it('township commands: a valid one reaches the bus as the township\'s, a malformed one is answered ok:false with the reason, results go to cmd/box/result', async () => {
    rig = await startBoxRig(uplinkYaml(mosq.url), { uplinkTimings: FAST });
    await until('online', () => rig!.box.uplink!.state().online);
    const commands: [BoxCommand, CommandMeta][] = [];
    const results: CommandResult[] = [];
    rig.box.ctx.bus.on('command', (c, m) => commands.push([c, m]));
    rig.box.ctx.bus.on('commandResult', (r) => results.push(r));
    const t = await mqtt.connectAsync(mosq.url, { username: TOWN_USER, password: TOWN_PASS, protocolVersion: 5, reconnectPeriod: 0 });
    const answers: unknown[] = [];
    t.on('message', (_topic, p) => answers.push(JSON.parse(p.toString())));
    await t.subscribeAsync('sb/v1/itest/cmd/box/result', { qos: 1 });
    await t.publishAsync('sb/v1/itest/cmd/box', JSON.stringify({ type: 'test', zones: ['site'] }), { qos: 1 });
    await until('command on the bus', () => commands.length > 0);
    expect(commands[0]![0]).toMatchObject({ type: 'test', by: 'township:sb-itest' });
    expect(commands[0]![1]).toEqual({ by: 'township:sb-itest', role: 'township', via: 'uplink' });
    await t.publishAsync('sb/v1/itest/cmd/box', JSON.stringify({ type: 'siren', command_id: 'c-42' }), { qos: 1 });
    await t.publishAsync('sb/v1/itest/cmd/box', 'not json at all', { qos: 1 });
    await until('three answers', () => answers.length >= 3);
    // The valid one was carried out by the engine runner, which answers it; the uplink answers the two it refused.
    expect(answers[0]).toEqual({ command_id: null, ok: true });
    expect(answers[1]).toMatchObject({ command_id: 'c-42', ok: false, error: expect.stringMatching(/^schema: /) });
    expect(answers[2]).toMatchObject({ command_id: null, ok: false, error: expect.stringMatching(/^not_json: /) });
    expect(results.map((r) => r.via)).toEqual(['uplink', 'uplink', 'uplink']);
    // Whoever carries out a command answers on the bus; the uplink publishes it.
    rig.box.ctx.bus.emit('commandResult', { commandId: 'c-43', ok: true, by: 'township:sb-itest', via: 'uplink' });
    rig.box.ctx.bus.emit('commandResult', { commandId: 'local', ok: true, by: 'wang', via: 'mqtt' });
    await until('fourth answer', () => answers.length >= 4);
    expect(answers[3]).toEqual({ command_id: 'c-43', ok: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(answers).toHaveLength(4);
    await t.endAsync();
  });

  it('CAP messages under sb/v1/cap/# reach the bus as townshipCap', async () => {
    rig = await startBoxRig(uplinkYaml(mosq.url), { uplinkTimings: FAST });
    await until('online', () => rig!.box.uplink!.state().online);
    const got: { topic: string; payload: string }[] = [];
    rig.box.ctx.bus.on('townshipCap', (m) => got.push({ topic: m.topic, payload: m.payload.toString() }));
    const t = await mqtt.connectAsync(mosq.url, { username: TOWN_USER, password: TOWN_PASS, reconnectPeriod: 0 });
    await t.publishAsync('sb/v1/cap/130600/weather', '<alert/>', { qos: 1 });
    await until('cap on the bus', () => got.length > 0);
    expect(got[0]).toEqual({ topic: 'sb/v1/cap/130600/weather', payload: '<alert/>' });
    await t.endAsync();
  });

  it('side messages wait while offline (the same key replaces), then go out retained, with MQTT 5 expiry', async () => {
    const m2 = await startTownship();
    const url = m2.url;
    await m2.stop();
    try {
      rig = await startBoxRig(uplinkYaml(url), { uplinkTimings: { ...FAST, retryFirstMs: 1500, retryMaxMs: 1500 } });
      const up = rig.box.uplink!;
      await until('tried and offline', () => up.counts.connects === 0 && up.state().offline_since);
      await new Promise((r) => setTimeout(r, 100));
      up.sendSide({ topic: 'sb/v1/itest/alert/wl1/water_level', payload: 'yellow', retain: true, qos: 1, key: 'alert/wl1/water_level' });
      up.sendSide({ topic: 'sb/v1/itest/cap', payload: '<alert>x</alert>', retain: false, qos: 1, expirySeconds: 3600 });
      up.sendSide({ topic: 'sb/v1/itest/alert/wl1/water_level', payload: 'red', retain: true, qos: 1, key: 'alert/wl1/water_level' });
      await m2.restart();
      const got: { topic: string; payload: string; retain: boolean; expiry?: number }[] = [];
      const t = await mqtt.connectAsync(url, { username: TOWN_USER, password: TOWN_PASS, protocolVersion: 5, reconnectPeriod: 0 });
      t.on('message', (topic, p, packet) => got.push({ topic, payload: p.toString(), retain: packet.retain, expiry: packet.properties?.messageExpiryInterval }));
      await t.subscribeAsync(['sb/v1/itest/alert/#', 'sb/v1/itest/cap'], { qos: 1 });
      await until('online', () => up.state().online, 10_000);
      await until('both side messages', () => got.length >= 2);
      await new Promise((r) => setTimeout(r, 200));
      expect(got.map((g) => `${g.topic}=${g.payload}`)).toEqual(['sb/v1/itest/cap=<alert>x</alert>', 'sb/v1/itest/alert/wl1/water_level=red']);
      expect(got[0]!.expiry).toBeGreaterThan(3500);
      expect(got[0]!.expiry).toBeLessThanOrEqual(3600);
      await t.endAsync();
      // A new subscriber gets the retained state.
      const late = await mqtt.connectAsync(url, { username: TOWN_USER, password: TOWN_PASS, reconnectPeriod: 0 });
      const retained: string[] = [];
      late.on('message', (topic, p, packet) => packet.retain && retained.push(`${topic}=${p.toString()}`));
      await late.subscribeAsync('sb/v1/itest/alert/#', { qos: 1 });
      await until('retained alert', () => retained.length > 0);
      expect(retained).toEqual(['sb/v1/itest/alert/wl1/water_level=red']);
      await late.endAsync();
    } finally {
      await rig?.stop();
      rig = null;
      await m2.stop();
    }
  });
});
