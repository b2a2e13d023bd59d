// The line's order when requests arrive together (issue 18 found it: in the demo a speaker's
// amplifier coil and the siren are on one relay board; the amplifier's write, requested in the
// same alarm step, took the idle line first and the siren's waited one whole bus turn).
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BusScheduler } from '../../drivers/modbus/bus-scheduler.ts';
import type { Link, LinkConfig } from '../../drivers/modbus/link.ts';

/** A link that answers every request after `turnMs` and records which unit went on the line, in order. */
function recordingLink(turnMs: number): { link: Link; order: string[] } {
  const order: string[] = [];
  const config: LinkConfig = { id: 'b', type: 'tcp', host: '127.0.0.1', port: 1, baud: 9600, parity: 'none', dataBits: 8, stopBits: 1, timeoutMs: 100 };
  const turn = (what: string) => new Promise<void>((r) => (order.push(what), setTimeout(r, turnMs)));
  const link: Link = {
    config,
    isOpen: () => true,
    open: async () => undefined,
    close: async () => undefined,
    read: async (unit) => (await turn(`read ${unit}`), [0]),
    writeCoil: async (unit, address) => turn(`coil ${unit}/${address}`),
    writeCoilRaw: async (unit, address) => turn(`coil ${unit}/${address}`),
    writeRegister: async (unit, address) => turn(`register ${unit}/${address}`),
  };
  return { link, order };
}

describe('BusScheduler: requests made in the same step', () => {
  it('an alarm write requested after an amplifier write on an idle line goes on the line first', async () => {
    const { link, order } = recordingLink(5);
    const sched = new BusScheduler(link, pino({ level: 'silent' }), { silenceMs: 0 });
    const amp = sched.request(1, 'write', (l) => l.writeCoil(1, 1, true));
    const siren = sched.request(1, 'alarm', (l) => l.writeCoil(1, 0, true));
    await Promise.all([amp, siren]);
    expect(order).toEqual(['coil 1/0', 'coil 1/1']);
    sched.stop();
  });

  it('alarm writes, then other writes, then reads, each in arrival order', async () => {
    const { link, order } = recordingLink(2);
    const sched = new BusScheduler(link, pino({ level: 'silent' }), { silenceMs: 0 });
    await Promise.all([
      sched.request(3, 'read', (l) => l.read(3, 'holding', 0, 1)),
      sched.request(1, 'write', (l) => l.writeCoil(1, 1, true)),
      sched.request(2, 'alarm', (l) => l.writeCoil(2, 0, true)),
      sched.request(4, 'read', (l) => l.read(4, 'holding', 0, 1)),
      sched.request(1, 'alarm', (l) => l.writeCoil(1, 0, true)),
      sched.request(5, 'write', (l) => l.writeRegister(5, 7, 1)),
    ]);
    expect(order).toEqual(['coil 2/0', 'coil 1/0', 'coil 1/1', 'register 5/7', 'read 3', 'read 4']);
    sched.stop();
  });

  it('an alarm write arriving while another request is on the line goes next, ahead of the writes waiting', async () => {
    const { link, order } = recordingLink(20);
    const sched = new BusScheduler(link, pino({ level: 'silent' }), { silenceMs: 0 });
    const first = sched.request(3, 'read', (l) => l.read(3, 'holding', 0, 1));
    await new Promise((r) => setTimeout(r, 3)); // the read is on the line now
    const waiting = sched.request(1, 'write', (l) => l.writeCoil(1, 1, true));
    await new Promise((r) => setTimeout(r, 3)); // the write waits behind it
    const siren = sched.request(1, 'alarm', (l) => l.writeCoil(1, 0, true));
    await Promise.all([first, waiting, siren]);
    expect(order).toEqual(['read 3', 'coil 1/0', 'coil 1/1']);
    sched.stop();
  });
});
