/**
 * The realistic site the sd-wear and soak benches run (issue 19): 50 Modbus sensors polled every
 * 10 s — 30 behind a Modbus TCP gateway (15 XM9505 rain gauges, 15 QDY30A water levels) and 20
 * on one RS-485 line (a socat pty at 9600 baud: 10 + 10) — 10 smoke detectors over MQTT (a
 * heartbeat every 30 s, as state-mode detectors send), an MQTT siren relay and speaker for the
 * valley, and a township Mosquitto the box's uplink forwards every event to. Everything but the
 * box runs in the bench's own process; the box is the compiled one in its own process
 * (box-process.ts), as the systemd unit runs it.
 *
 * `storm(on)` is the weather: rain at 24 mm/h on every gauge is nothing; a storm tips 2 mm per
 * poll (12 mm/min: a cloudburst, under max_rate_mm_per_min) so the gauges reach the 3 h orange
 * rule within about five minutes, and the rivers rise 4 cm a poll past their warning stage.
 * With `probe`, a second zone has its own siren and a water-level probe the soak uses to time
 * alarms (raise and clear at once, no all-clear pattern holding the siren).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../../gateway/config/load.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';
import { loadAllProfiles } from '../../drivers/modbus/profiles.ts';
import { SimulatedBus, type SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { ActuatorSim } from '../../simulators/devices/actuator-sim.ts';
import { SensorSim } from '../../simulators/devices/mqtt-device.ts';
import { startMosquitto, freePort, type Mosquitto } from '../helpers/mosquitto.ts';
import { BENCH_SCRYPT } from './box-process.ts';

export const SITE = 'wear';
export const TCP_UNITS = 30;
export const RTU_UNITS = 20;
export const SMOKE = 10;
const POLL_S = 10;
const HEARTBEAT_MS = 30_000;
const pw = (id: string): string => `pw-${id}-secret`;

export interface RealisticSite {
  configPath: string;
  dbPath: string;
  mqttPort: number;
  township: Mosquitto;
  tcp: SimulatedBus;
  rtu: SimulatedBus;
  /** Gauges and rivers by sensor id. */
  devices: Map<string, SimulatedDevice>;
  /** Connects the MQTT devices (once the box listens) and starts the weather and heartbeats. */
  startField(): Promise<void>;
  storm(on: boolean): void;
  /** The probe (with `probe`): publishes a level; the siren of its zone. */
  probe: SensorSim | null;
  probeSiren: ActuatorSim | null;
  /** Disconnects the MQTT devices (before the box stops: their goodbye waits for its broker). */
  stopField(): Promise<void>;
  /** Stops the simulators and the township (after the box). */
  stop(): Promise<void>;
}

const quiet = pino({ level: 'silent' });

export async function realisticSite(dir: string, o: { storeDir?: string; probe?: boolean } = {}): Promise<RealisticSite> {
  mkdirSync(dir, { recursive: true });
  const profiles = new Map(loadAllProfiles().map((p) => [p.model, p]));
  const tcp = new SimulatedBus({ transport: 'tcp' });
  const rtu = new SimulatedBus({ transport: 'rtu' });
  const devices = new Map<string, SimulatedDevice>();
  const sensors: string[] = [];
  const add = (bus: SimulatedBus, busId: string, unit: number, i: number): void => {
    const rain = i % 2 === 0;
    const id = `${rain ? 'rg' : 'wl'}${i}`;
    const d = bus.add(profiles.get(rain ? 'xunchip-xm9505' : 'qdy30a')!, unit);
    if (!rain) {
      d.set('unit_code', 1);
      d.set('decimals', 1);
      d.set('level', 1.2);
    }
    devices.set(id, d);
    const where = `modbus: { bus: ${busId}, unit: ${unit}, profile: ${rain ? 'xunchip-xm9505' : 'qdy30a'}, poll_s: ${POLL_S} }`;
    sensors.push(rain ? `  - { id: ${id}, kind: rain, zone: valley, sound_zones: [valley], ${where} }` : `  - { id: ${id}, kind: water_level, zone: valley, sound_zones: [valley], stages: { warning: 2.5, guaranteed: 3.2 }, ${where} }`);
  };
  for (let u = 1; u <= TCP_UNITS; u++) add(tcp, 'gw1', u, u);
  for (let u = 1; u <= RTU_UNITS; u++) add(rtu, 'line1', u, TCP_UNITS + u);
  await tcp.start();
  await rtu.start();

  const smokeIds = Array.from({ length: SMOKE }, (_, i) => `sm${i}`);
  for (const id of smokeIds) sensors.push(`  - { id: ${id}, kind: smoke, zone: hall, sound_zones: [hall] }`);
  if (o.probe) sensors.push('  - { id: probe, kind: water_level, zone: dock, sound_zones: [dock], stages: { historical_max: 5 }, raise_after_s: 0, clear_after_s: 0, hysteresis_m: 0 }');
  const mqttDevices = [...smokeIds, 'siren1', 'spk1', ...(o.probe ? ['probe', 'siren2'] : [])];
  const accounts: string[] = [];
  for (const id of mqttDevices) accounts.push(`    - { username: ${id}, role: device, secret_hash: '${await hashSecret(pw(id), BENCH_SCRYPT)}' }`);
  accounts.push(`    - { username: wang, role: officer, secret_hash: '${await hashSecret(pw('wang'), BENCH_SCRYPT)}' }`);

  const township = await startMosquitto({
    accounts: [{ username: SITE, password: pw(SITE) }, { username: 'township', password: pw('township') }],
    acl: [`user ${SITE}`, `topic readwrite sb/v1/${SITE}/#`, 'topic read sb/v1/cap/#', 'user township', 'topic readwrite sb/v1/#'],
    extra: ['max_inflight_messages 64', 'max_queued_messages 0'],
  });
  const passwordFile = join(dir, 'uplink.pw');
  writeFileSync(passwordFile, pw(SITE), { mode: 0o600 });
  const mqttPort = await freePort();
  const storeDir = o.storeDir ?? dir;
  const dbPath = join(storeDir, 'wear.db');
  const yaml = `
site: { id: ${SITE}, name: 山谷村 }
zones: [{ id: valley, name: 山谷 }, { id: hall, name: 礼堂 }, { id: dock, name: 码头 }]
buses:
  - { id: gw1, type: tcp, host: 127.0.0.1, port: ${tcp.endpoint.port} }
  - { id: line1, type: rtu, path: '${rtu.path}', baud: 9600 }
sensors:
${sensors.join('\n')}
actuators:
  - { id: siren1, kind: siren, zones: [valley, hall] }
  - { id: spk1, kind: speaker, zones: [valley, hall] }
${o.probe ? '  - { id: siren2, kind: siren, zones: [dock] }\n' : ''}actions: { all_clear_pattern: null }
mqtt:
  host: 127.0.0.1
  port: ${mqttPort}
  ws_port: 0
  accounts:
${accounts.join('\n')}
uplink: { url: 'mqtt://127.0.0.1:${township.port}', username: ${SITE}, password_file: '${passwordFile}' }
store: { path: '${dbPath}' }
`;
  const { problems } = parseConfig(yaml);
  if (problems.length) throw new Error(`realistic site config: ${JSON.stringify(problems)}`);
  const configPath = join(dir, 'site.yaml');
  writeFileSync(configPath, yaml);

  const url = `mqtt://127.0.0.1:${mqttPort}`;
  const base = { url, site: SITE, log: quiet };
  const smokes = smokeIds.map((id) => new SensorSim({ ...base, id, password: pw(id) }, 'state'));
  const actuators = [new ActuatorSim({ ...base, id: 'siren1', password: pw('siren1') }, 'siren'), new ActuatorSim({ ...base, id: 'spk1', password: pw('spk1') }, 'speaker')];
  const probe = o.probe ? new SensorSim({ ...base, id: 'probe', password: pw('probe') }, 'm') : null;
  const probeSiren = o.probe ? new ActuatorSim({ ...base, id: 'siren2', password: pw('siren2') }, 'siren') : null;
  const timers: NodeJS.Timeout[] = [];
  let raining = false;
  const rain = new Map<string, number>();
  const weather = (): void => {
    for (const [id, d] of devices) {
      if (id.startsWith('rg')) {
        // Drizzle: a 0.2 mm tip now and then; a storm: 2 mm a poll.
        const mm = (rain.get(id) ?? 0) + (raining ? 2 : Math.random() < 0.07 ? 0.2 : 0);
        rain.set(id, mm);
        d.set('rainfall_mm', Math.round((mm % 6553.6) * 10) / 10);
      } else {
        const level = d.get('level');
        const next = raining ? level + 0.04 : Math.max(1.2, level - 0.02) + (Math.random() - 0.5) * 0.01;
        d.set('level', Math.round(next * 100) / 100);
      }
    }
  };
  return {
    configPath,
    dbPath,
    mqttPort,
    township,
    tcp,
    rtu,
    devices,
    probe,
    probeSiren,
    async startField() {
      const all = [...smokes, ...actuators, ...(probe ? [probe] : []), ...(probeSiren ? [probeSiren] : [])];
      for (const d of all) await d.start();
      timers.push(setInterval(weather, POLL_S * 1000));
      // Heartbeats spread over the period, as independent detectors are.
      smokes.forEach((s, i) => {
        const beat = (): void => void s.publish('normal').catch(() => undefined);
        timers.push(setTimeout(() => (beat(), timers.push(setInterval(beat, HEARTBEAT_MS))), (i * HEARTBEAT_MS) / SMOKE));
      });
      if (probe) await probe.publish(1);
    },
    storm(on) {
      raining = on;
    },
    async stopField() {
      for (const t of timers) clearInterval(t);
      await Promise.all([...smokes, ...actuators, ...(probe ? [probe] : []), ...(probeSiren ? [probeSiren] : [])].map((d) => d.stop().catch(() => undefined)));
    },
    async stop() {
      await tcp.stop();
      await rtu.stop();
      await township.stop();
    },
  };
}
