/**
 * The box's own Modbus drivers without the box: one real link and bus scheduler, and the context
 * (event bus, logger, clock) a poller or relay siren driver takes, collecting what they emit.
 */
import { pino } from 'pino';
import { BusScheduler } from '../../drivers/modbus/bus-scheduler.ts';
import { ModbusSerialLink, type LinkConfig } from '../../drivers/modbus/link.ts';
import type { Reading } from '../../gateway/engine/types.ts';
import { Bus, type ActuatorReport } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import type { BoxContext } from '../../gateway/shell/module.ts';
import { site } from './site.ts';

export interface DriverRig {
  sched: BusScheduler;
  ctx: BoxContext;
  readings: Reading[];
  reports: ActuatorReport[];
  close(): Promise<void>;
}

/** Opens a link (`id`, `type` and where; 9600 8N1) and a scheduler over it with one retry. */
export async function openDriverRig(where: Pick<LinkConfig, 'id' | 'type' | 'path' | 'host' | 'port' | 'timeoutMs'>): Promise<DriverRig> {
  const link = new ModbusSerialLink({ baud: 9600, parity: 'none', dataBits: 8, stopBits: 1, ...where });
  await link.open();
  const log = pino({ level: 'silent' });
  const sched = new BusScheduler(link, log, { retries: 1 });
  const bus = new Bus(log);
  const readings: Reading[] = [];
  const reports: ActuatorReport[] = [];
  bus.on('reading', (r) => readings.push({ ...r }));
  bus.on('actuatorReport', (r) => reports.push(r));
  const ctx = { config: site(`site: { id: ${where.id}, name: ${where.id} }\nsensors: [{ id: rg1, kind: rain }]`), bus, log, clock: systemClock() };
  return {
    sched,
    ctx,
    readings,
    reports,
    async close() {
      sched.stop();
      await link.close();
    },
  };
}
