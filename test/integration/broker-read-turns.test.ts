/**
 * A client's input is taken in turns (read-turns.ts): a device that sends 500 readings and a
 * 10 KB status message in one TCP write has every one of them read, in order, and a large
 * packet split across turns arrives whole. Meanwhile another device's reading is not made to
 * wait for all of that: it reaches the bus after a few turns of the flooding device's backlog,
 * not after all that was buffered. An account over its input budget (input-budget.ts) is held
 * back, in order and without loss, while other accounts' input goes on.
 */
import mqttPacket from 'mqtt-packet';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerOptions } from '../../gateway/broker/broker-types.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { BrokerRig, T, brokerSite, rawClient, rawConnect, until } from '../helpers/broker-rig.ts';

let config: SiteConfig;
let rig: BrokerRig | undefined;

beforeAll(async () => {
  config = await brokerSite(16_384);
});

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const publish = (topic: string, payload: string): Buffer => mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false } as mqttPacket.IPublishPacket);

async function connected(port: number, user: string, clientId = `${user}-raw`): Promise<Awaited<ReturnType<typeof rawClient>>> {
  const c = await rawClient(port);
  // The box resets a connection it stops with bytes unread (the budget test): not a failure.
  c.s.on('error', () => undefined);
  c.s.write(rawConnect(clientId, user));
  await until(() => c.got().length >= 4, `${user}'s CONNACK`);
  expect([...c.got().subarray(0, 4)]).toEqual([0x20, 2, 0, 0]);
  return c;
}

describe('input taken in turns', () => {
  it('reads every packet of one large write in order, a large packet across turns included', async () => {
    rig = await BrokerRig.start(config, { inputBudgets: { device: { rate: 1e9, burst: 1e9 } } });
    const rg1 = await connected(rig.broker.tcpPort, 'rg1');
    const status = 'x'.repeat(10_000);
    const burst: Buffer[] = [];
    for (let i = 1; i <= 500; i++) {
      burst.push(publish(T.sensorReading('rg1'), JSON.stringify({ value: i })));
      if (i === 250) burst.push(publish(T.deviceStatus('rg1'), status));
    }
    const all = Buffer.concat(burst);
    expect(all.length).toBeGreaterThan(6 * 4096);
    rg1.s.write(all);
    await until(() => rig!.readings.filter((r) => r.sensor === 'rg1').length === 500, 'all 500 readings');
    expect(rig.readings.map((r) => r.value)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(rig.broker.stats().rejectedOther).toBe(0);
    rg1.s.destroy();
  });

  it("lets another device's reading in before a flooding device's backlog is done", async () => {
    // Budgets out of the way: this is about turns, not rates.
    rig = await BrokerRig.start(config, { inputBudgets: { device: { rate: 1e9, burst: 1e9 } } });
    const rg1 = await connected(rig.broker.tcpPort, 'rg1');
    const wl1 = await connected(rig.broker.tcpPort, 'wl1');
    const burst = Buffer.concat(Array.from({ length: 5000 }, (_, i) => publish(T.sensorReading('rg1'), JSON.stringify({ value: i + 1 }))));
    rg1.s.write(burst);
    // Once the box has begun on the backlog, the other device sends one reading.
    await until(() => rig!.readings.length > 0, 'the first of the backlog');
    wl1.s.write(publish(T.sensorReading('wl1'), JSON.stringify({ value: 1.5 })));
    await until(() => rig!.readings.filter((r) => r.sensor === 'rg1').length === 5000, 'the whole backlog');
    const at = rig.readings.findIndex((r) => r.sensor === 'wl1');
    // A count of readings, not a time: without turns the box took the backlog's first ~3,000
    // (all that was buffered) before it (2,937 seen); in turns, ~280.
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(1000);
    rg1.s.destroy();
    wl1.s.destroy();
  });

  it("holds an account over its input budget back without losing a byte, and leaves other accounts' input alone", async () => {
    // 4 KiB/s, 4 KiB at once: 4,000 readings (~180 KB) take ~45 s to be let in.
    rig = await BrokerRig.start(config, { inputBudgets: { device: { rate: 4096, burst: 4096 } } });
    const rg1 = await connected(rig.broker.tcpPort, 'rg1');
    const wl1 = await connected(rig.broker.tcpPort, 'wl1');
    const burst = Buffer.concat(Array.from({ length: 4000 }, (_, i) => publish(T.sensorReading('rg1'), JSON.stringify({ value: i + 1 }))));
    rg1.s.write(burst);
    await until(() => rig!.readings.length > 0, 'the first of the backlog');
    wl1.s.write(publish(T.sensorReading('wl1'), JSON.stringify({ value: 1.5 })));
    await until(() => rig!.readings.some((r) => r.sensor === 'wl1'), "the other device's reading");
    await new Promise((r) => setTimeout(r, 1000));
    // After ~1 s at most burst + rate + one turn of bytes were read: far from the 4,000.
    const got = rig.readings.filter((r) => r.sensor === 'rg1');
    expect(got.length).toBeLessThan(1000);
    // Nothing lost or reordered: what was let in is the start of the backlog, in order.
    expect(got.map((r) => r.value)).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
    expect(rig.broker.stats().rejectedReadings).toBe(0);
    rg1.s.destroy();
    wl1.s.destroy();
  });

  /**
   * Twenty connections each with 2,000 readings waiting; when the box has taken 4,000 of them,
   * one reading is written on a quiet connection from inside the box's own turn (a bus
   * listener, so it lands in the middle of a loop turn, as a probe does in the field): how many
   * of the backlog the box took between that write and the quiet reading. A count, not a time.
   * With the loop turn bounded (InputTurns), the rest of one slice; with only each connection's
   * turn bounded (the slice made unlimited: the code before), the rest of a round in which
   * every backlogged connection had its 4 KiB.
   */
  async function takenBeforeQuiet(inputSlice: BrokerOptions['inputSlice']): Promise<{ taken: number; inOrder: boolean }> {
    rig = await BrokerRig.start(config, { inputBudgets: { device: { rate: 1e9, burst: 1e9 } }, connections: { perAccount: { device: 32 } }, inputSlice });
    const port = rig.broker.tcpPort;
    // One after another: the secret-check lanes refuse (CONNACK 3) what waits beyond them.
    const flooders: Awaited<ReturnType<typeof connected>>[] = [];
    for (let k = 0; k < 20; k++) flooders.push(await connected(port, 'rg1', `rg1-flood-${k}`));
    const wl1 = await connected(port, 'wl1');
    let before = -1;
    const readings = rig.readings;
    rig.bus.on('reading', () => {
      if (before >= 0 || readings.length < 4000) return;
      before = readings.length;
      wl1.s.write(publish(T.sensorReading('wl1'), JSON.stringify({ value: 1.5 })));
    });
    for (const [k, f] of flooders.entries()) {
      f.s.write(Buffer.concat(Array.from({ length: 2000 }, (_, i) => publish(T.sensorReading('rg1'), JSON.stringify({ value: k * 10_000 + i })))));
    }
    await until(() => readings.length === 40_001, 'every reading', 30_000);
    const at = readings.findIndex((r) => r.sensor === 'wl1');
    // Each connection's readings arrive complete and in order.
    const inOrder = flooders.every((_, k) => {
      const mine = readings.filter((r) => r.sensor === 'rg1' && Math.floor(Number(r.value) / 10_000) === k).map((r) => Number(r.value));
      return mine.length === 2000 && mine.every((v, i) => v === k * 10_000 + i);
    });
    for (const f of [...flooders, wl1]) f.s.destroy();
    return { taken: at - before, inOrder };
  }

  it('bounds what a loop turn takes from backlogged connections, so a quiet one waits a slice, not a round of all of them', async () => {
    const bounded = await takenBeforeQuiet(undefined);
    await rig!.stop();
    rig = undefined;
    const unbounded = await takenBeforeQuiet({ sliceBytes: 1e12, sliceMs: 1e9 });
    // Seen: bounded 68–157 (the rest of a slice of 8 KiB, ~165 readings of ~50 bytes); unbounded
    // 1,294 (the rest of a round of 20 connections × ~80 readings).
    expect(bounded.inOrder).toBe(true);
    expect(unbounded.inOrder).toBe(true);
    expect(bounded.taken).toBeLessThan(600);
    expect(unbounded.taken).toBeGreaterThan(1000);
    console.log(`readings taken from the backlog before the quiet reading: bounded ${bounded.taken}, unbounded ${unbounded.taken}`);
  });
});
