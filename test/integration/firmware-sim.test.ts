// The field-node firmware, built for the ATmega328P and run unmodified in simavr, answers a real
// Modbus RTU master (modbus-serial) over a pseudo-terminal. Register addresses: firmware/README.md.
// NODE_SIM_TRACE=1 shows every UART byte and relay edge with its simulated time on stderr.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import modbusSerial from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRMWARE, startNodeSim, type NodeSim } from '../helpers/node-sim.ts';

// CommonJS: the client class is module.exports, and module.exports.default for the typings.
const ModbusRTU = modbusSerial.default;
const LINK = join(tmpdir(), `shaobing-fw-sim-${process.pid}`);

// Register map (0-based), as in firmware/README.md.
const IR = { fwVersion: 0, crcErrors: 5, framingErrors: 6, rainTips: 16, levelMm: 32, levelStatus: 34, sirenStatus: 64, sirenMaxOnCeilingS: 67 } as const;
const HR = { rainTipUm: 4, levelSpanMm: 5, levelOffsetMm: 6, sirenMaxOnS: 8, sirenSilenceS: 9 } as const;
const COIL_SIREN = 0;
const SIREN = { maxOnCut: 0x04, silenceCut: 0x08, resting: 0x10 } as const;

function configValue(name: string): number {
  const m = readFileSync(join(FIRMWARE, 'src/config.h'), 'utf8').match(new RegExp(`#define ${name} (\\d+)u`));
  if (!m?.[1]) throw new Error(`${name} not found in config.h`);
  return Number(m[1]);
}

let node: NodeSim | undefined;
const client = new ModbusRTU();
const relayEdge = (want: boolean, from: number, timeoutMs: number): ReturnType<NodeSim['relayEdge']> => node!.relayEdge(want, from, timeoutMs);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function expectException(p: Promise<unknown>, code: number): Promise<void> {
  await expect(p).rejects.toMatchObject({ modbusCode: code });
}

describe('field-node firmware in simavr over a pty', () => {
  beforeAll(async () => {
    node = await startNodeSim(LINK);
    await client.connectRTUBuffered(LINK, { baudRate: 9600 });
    client.setID(1);
    // simavr on a loaded 2-core machine can lag real time: a first read under the full suite's
    // load once took over 3 s, and once got no answer at all within 10 s (TransactionTimedOutError,
    // session 7, the frame lost while the simulated MCU was still starting). A master retries a
    // node that has just powered up; so does this one, before any test, then waits long: these
    // tests check values, not timing.
    client.setTimeout(2_000);
    for (let attempt = 1; ; attempt++) {
      try {
        await client.readInputRegisters(IR.fwVersion, 1);
        break;
      } catch (err) {
        if (attempt >= 10) throw err;
      }
    }
    client.setTimeout(10_000);
  }, 180_000);

  afterAll(async () => {
    if (client.isOpen) await new Promise<void>((r) => client.close(() => r()));
    await node?.stop();
  });

  it('reports its firmware version and a clean bus', async () => {
    const health = await client.readInputRegisters(IR.fwVersion, 10);
    const version = (configValue('FW_VERSION_MAJOR') << 8) | configValue('FW_VERSION_MINOR');
    expect(health.data[IR.fwVersion]).toBe(version);
    expect(health.data[IR.crcErrors]).toBe(0);
    expect(health.data[IR.framingErrors]).toBe(0);
    const ceiling = await client.readInputRegisters(IR.sirenMaxOnCeilingS, 1);
    expect(ceiling.data[0]).toBe(configValue('SIREN_MAX_ON_CEILING_S'));
  }, 60_000);

  it('writes and reads back holding registers (FC06, FC16, FC03)', async () => {
    await client.writeRegister(HR.rainTipUm, 254);
    await client.writeRegisters(HR.levelSpanMm, [3000, 120]);
    const hr = await client.readHoldingRegisters(HR.rainTipUm, 3);
    expect(hr.data).toEqual([254, 3000, 120]);
    await client.writeRegisters(HR.rainTipUm, [200, 5000, 0]);
  }, 60_000);

  it('answers exceptions for addresses and values it does not have', async () => {
    await expectException(client.readInputRegisters(10, 1), 2); // ILLEGAL DATA ADDRESS
    await expectException(client.readHoldingRegisters(0, 11), 2);
    await expectException(client.writeCoil(1, true), 2);
    const ceiling = configValue('SIREN_MAX_ON_CEILING_S');
    await expectException(client.writeRegister(HR.sirenMaxOnS, ceiling + 1), 3); // ILLEGAL DATA VALUE
    const still = await client.readHoldingRegisters(HR.sirenMaxOnS, 1);
    expect(still.data[0]).toBe(ceiling);
  }, 60_000);

  it('counts rain tips and flags a broken 4-20 mA loop (inputs driven by the harness)', async () => {
    const tips = async (): Promise<number> => {
      const r = await client.readInputRegisters(IR.rainTips, 2);
      return (r.data[0] ?? 0) * 65536 + (r.data[1] ?? 0);
    };
    const until = async (what: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
      const end = Date.now() + timeoutMs;
      while (!(await what())) {
        if (Date.now() > end) throw new Error('condition not reached in time');
        await sleep(100);
      }
    };
    const before = await tips();
    node?.child.stdin.write('rain 3\n'); // 100 ms closed, 200 ms open, three times
    await until(async () => (await tips()) === before + 3, 20_000);
    node?.child.stdin.write('adc 100\n'); // 100 mV on 150 ohm = 0.67 mA: the loop is open
    await until(async () => (await client.readInputRegisters(IR.levelStatus, 1)).data[0] === 1, 10_000);
    node?.child.stdin.write('adc 1800\n'); // 12 mA: half of the default 5 m span
    await until(async () => (await client.readInputRegisters(IR.levelStatus, 1)).data[0] === 0, 10_000);
    const level = await client.readInputRegisters(IR.levelMm, 1);
    expect(level.data[0]).toBeGreaterThan(2400);
    expect(level.data[0]).toBeLessThan(2600);
  }, 60_000);

  it('turns the siren off by itself when the gateway falls silent', async () => {
    await client.writeRegister(HR.sirenSilenceS, 3);
    const from = node!.edges.length;
    await client.writeCoil(COIL_SIREN, true);
    // No more requests from here: the node must give up after 3 s of its own time.
    const on = await relayEdge(true, from, 15_000);
    const off = await relayEdge(false, on.index, 30_000);
    const onMs = off.edge.simMs - on.edge.simMs;
    expect(onMs).toBeGreaterThanOrEqual(2990);
    expect(onMs).toBeLessThan(3200);
    const status = await client.readInputRegisters(IR.sirenStatus, 1);
    expect(status.data[0]).toBe(SIREN.silenceCut);
    const coil = await client.readCoils(COIL_SIREN, 1);
    expect(coil.data[0]).toBe(false);
  }, 60_000);

  it('never runs the siren past its maximum on-time, however hard the gateway insists', async () => {
    await client.writeRegisters(HR.sirenMaxOnS, [4, 30]); // max on 4 s; silence far away
    const from = node!.edges.length;
    await client.writeCoil(COIL_SIREN, true);
    const on = await relayEdge(true, from, 15_000);
    // Keep asking for ON, as a gateway stuck in a loop would.
    let offSeen = false;
    const off = relayEdge(false, on.index, 40_000).finally(() => {
      offSeen = true;
    });
    while (!offSeen) {
      await client.writeCoil(COIL_SIREN, true).catch(() => undefined); // BUSY once it has been cut
      await sleep(250);
    }
    const onMs = (await off).edge.simMs - on.edge.simMs;
    expect(onMs).toBeGreaterThanOrEqual(3990);
    expect(onMs).toBeLessThan(4200);
    const status = await client.readInputRegisters(IR.sirenStatus, 1);
    expect(status.data[0]).toBe(SIREN.maxOnCut | SIREN.resting);
    await expectException(client.writeCoil(COIL_SIREN, true), 6); // SERVER DEVICE BUSY while resting
    await sleep(1000);
    expect(node!.edges.slice(from).filter((e) => e.on)).toHaveLength(1);
    await client.writeRegisters(HR.sirenMaxOnS, [configValue('SIREN_MAX_ON_CEILING_S'), 60]);
  }, 90_000);
});
