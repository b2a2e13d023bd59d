/**
 * The running box, wired in one place: event log, broker, engine, actuators, publisher.
 * `startBox` returns once every module has started or is being retried; `stop()` winds down
 * (sirens off unless an alarm holds them), says `offline`, flushes the log.
 */
import type { Logger } from 'pino';
import { BrokerModule } from './broker/broker.ts';
import type { SiteConfig } from './config/types.ts';
import { ActuatorRouter } from './shell/actuators.ts';
import { Bus } from './shell/bus.ts';
import { systemClock, type Clock } from './shell/clock.ts';
import { EngineRunner } from './shell/engine-runner.ts';
import type { BoxContext } from './shell/module.ts';
import { Publisher, storageProblems } from './shell/publisher.ts';
import { record, type EventSink } from './shell/record.ts';
import { Supervisor } from './shell/supervisor.ts';
import { TownshipCapInbox } from './shell/township-cap.ts';
import { EventStore, type EventStoreOptions } from './store/event-store.ts';
import { sensorRegister } from '../drivers/modbus/sensor-register.ts';
import type { DeviceProfile } from '../drivers/modbus/profile-types.ts';
import type { Module } from './shell/module.ts';
import { Uplink, type UplinkTimings } from './uplink/uplink.ts';
import type { PanelServer } from './panel/server.ts';
import { SelfTests } from './schedule/self-tests.ts';
import { useSiteZone } from './schedule/schedule-zone.ts';
import type { ScheduledBackup } from './backup/scheduled-backup.ts';
import type { LocalSpeakers } from '../drivers/speaker/local-speakers.ts';
import type { PanelHw, PanelHwOptions } from '../drivers/panel-hw/panel-hw.ts';
import type { IpSpeakers } from '../drivers/ip-speaker/ip-speakers.ts';

/**
 * A Modbus rain gauge's counter wraps in raw counts (the profile knows where); the driver hands
 * the engine millimetres, so the engine's wrap point is the profile's, times its scale.
 */
export function withProfileCounters(config: SiteConfig, profiles: Map<string, DeviceProfile>): SiteConfig {
  const sensors = config.sensors.map((s) => {
    if (s.kind !== 'rain' || !s.modbus || s.counterModulus !== 0) return s;
    const p = profiles.get(s.modbus.profile);
    const name = p && sensorRegister(p, s.kind, s.modbus.register);
    const reg = p?.registers.find((r) => r.name === name);
    return reg && reg.counterModulus > 0 ? { ...s, counterModulus: reg.counterModulus * reg.scale } : s;
  });
  return { ...config, sensors };
}

/**
 * The effective config as logged at start: account secrets' hashes stay out of the journal
 * (a hash in a log file can be attacked offline), accounts are listed by name and role.
 */
export function loggableConfig(config: SiteConfig): unknown {
  return { ...config, mqtt: { ...config.mqtt, accounts: config.mqtt.accounts.map((a) => `${a.username} (${a.role})`) } };
}

export interface BoxOptions {
  config: SiteConfig;
  log: Logger;
  clock?: Clock;
  /** The device profiles, if already loaded (config/isolated.ts); else read here when buses need them. */
  profiles?: readonly DeviceProfile[];
  /** Overrides for tests: ports (0 = ephemeral) and the database file. */
  tcpPort?: number;
  wsPort?: number;
  /** The panel's port (0 = ephemeral), instead of the config's. */
  panelPort?: number;
  /** The IP speakers' audio port (0 = ephemeral), instead of the config's. */
  ipSpeakersPort?: number;
  dbPath?: string;
  /** The store's retry times (tests shorten them), and its fdatasync (tests: one that hangs, for the watchdog). */
  storeOptions?: Pick<EventStoreOptions, 'retryMs' | 'retryMaxMs' | 'syncFn'>;
  /** The uplink's deadlines and backoff (tests shorten them). */
  uplinkTimings?: Partial<UplinkTimings>;
  /** The physical panel's board opener, retries and blink (tests: mock-firmata); default StandardFirmata on `panel_hw.port`. */
  panelHw?: PanelHwOptions;
}

export interface Box {
  ctx: BoxContext;
  broker: BrokerModule;
  store: EventStore;
  engine: EngineRunner;
  /** The township uplink; null when the site has none. */
  uplink: Uplink | null;
  /** The duty officer's panel API; null when the site has none. */
  panel: PanelServer | null;
  /** The daily backup; null when the site has none. */
  backup: ScheduledBackup | null;
  /** The speakers the box plays itself (`actuators[].audio`); null when it has none. */
  speakers: LocalSpeakers | null;
  /** The physical panel (buttons, LEDs, buzzer); null when the site has none. */
  panelHw: PanelHw | null;
  /** The IP speakers' audio server; null without `ip_speakers` or without an MQTT speaker. */
  ipSpeakers: IpSpeakers | null;
  /** The scheduled self-tests (gateway/schedule/). */
  selfTests: SelfTests;
  /** `reason`: what stopped it (the signal's name, or 'stop'), kept in the `stop` event. */
  stop(reason?: string): Promise<void>;
}

/**
 * Acting never waits on the log: the store keeps events it cannot write in memory and retries
 * (degraded mode, also when the log cannot be opened at start), and if even that throws (a
 * bug, or a payload with no JSON form), the box logs the events themselves loudly and still
 * sounds the siren.
 */
function guarded(store: EventStore, log: Logger): EventSink {
  return {
    appendMany(events, snapshot) {
      try {
        return store.appendMany(events, snapshot);
      } catch (err) {
        // This line is then the events' only record: all of them, not just their types.
        log.fatal({ err, events }, 'events could not be logged; acting anyway (this line is their only record)');
        return events.map(() => -1);
      }
    },
    addReading(r) {
      try {
        store.addReading(r);
      } catch (err) {
        log.error({ err, sensor: r.sensor }, 'reading not stored');
      }
    },
    saveSnapshot(snapshot) {
      try {
        store.saveSnapshot(snapshot);
      } catch (err) {
        log.error({ err }, 'the core snapshot could not be saved; a restart rebuilds from the one before and the readings');
      }
    },
  };
}

export async function startBox(o: BoxOptions): Promise<Box> {
  const clock = o.clock ?? systemClock();
  // Drivers and profiles are loaded only when the site has field buses or serial lines: a site
  // of MQTT sensors does not carry modbus-serial and serialport in memory (about 15 MB).
  const needsProfiles = o.config.buses.length > 0;
  const profileList = o.profiles ?? (needsProfiles ? (await import('../drivers/modbus/profiles.ts')).loadAllProfiles() : []);
  const profiles = new Map(profileList.map((p) => [p.model, p]));
  const config = withProfileCounters(o.config, profiles);
  const ctx: BoxContext = { config, bus: new Bus(o.log), log: o.log, clock };
  const store = new EventStore(ctx, { ...o.storeOptions, path: o.dbPath });
  const sink = guarded(store, o.log);
  // The daily backup (gateway/backup/): loaded only when the site has one; its fault is a status problem.
  const backup = config.backup ? new (await import('./backup/scheduled-backup.ts')).ScheduledBackup(ctx, sink, config.backup, o.dbPath ?? config.store.path) : null;
  // The physical panel (set below, once loaded): its absence is a problem too.
  let panelHwProblems: () => string[] = () => [];
  const problems = (): string[] => [...storageProblems(store.health()), ...(backup?.problems() ?? []), ...panelHwProblems()];
  const broker = new BrokerModule(ctx, { tcpPort: o.tcpPort, wsPort: o.wsPort });
  const engine = new EngineRunner(ctx, sink, 1000, store, { problems, store: () => store.health() });
  const publish = broker.publish.bind(broker);
  // IP speakers (drivers/ip-speaker/): MQTT speakers' broadcast commands carry a URL of the rendered audio.
  // Loaded only when used (the renderer and its text rules are memory a site without them need not carry).
  const ipSpeakers = config.ipSpeakers && config.actuators.some((a) => a.kind === 'speaker' && !a.modbus && !a.audio) ? new (await import('../drivers/ip-speaker/ip-speakers.ts')).IpSpeakers(ctx, { ...config.ipSpeakers, ...(o.ipSpeakersPort === undefined ? {} : { port: o.ipSpeakersPort }) }) : null;
  const actuators = new ActuatorRouter(ctx, publish, sink, ipSpeakers ? (e, a) => ipSpeakers.audioFor(e, a) : undefined);
  const uplink = config.uplink ? new Uplink(ctx, store, config.uplink, o.uplinkTimings) : null;
  const publisher = new Publisher(ctx, publish, {
    activeAlerts: () => engine.active().length,
    responseClock: (alert) => engine.responseClock(alert),
    alertState: (alert) => engine.alertState(alert),
    problems,
    uplink: () => uplink?.state() ?? null,
  });
  uplink?.onStateChange(() => publisher.status());
  backup?.onChange(() => publisher.status());
  store.onHealthChange((h) => {
    o.log.warn({ storage: h }, h.degraded ? 'storage degraded: keeping alerts in memory, dropping raw readings' : 'storage recovered');
    publisher.status();
  });
  const fieldBuses: Module[] = [];
  let buses: import('../drivers/modbus/field-buses.ts').FieldBuses | null = null;
  if (config.buses.length) {
    const { FieldBuses } = await import('../drivers/modbus/field-buses.ts');
    buses = new FieldBuses(ctx, profiles);
    fieldBuses.push(buses);
  }
  // Speakers the box plays itself (drivers/speaker/), their amplifier relays on the field buses.
  const speakers = config.actuators.some((a) => a.audio) ? new (await import('../drivers/speaker/local-speakers.ts')).LocalSpeakers(ctx, profiles, () => buses?.schedulers) : null;
  const serial = config.serial.length ? await import('../drivers/serial/driver.ts') : null;
  const serialLines: Module[] = (serial ? config.serial : []).map((port) => {
    const devices = Object.fromEntries(Object.entries(port.devices).map(([line, sensor]) => [line, { sensor }]));
    return new serial!.SerialSensorDriver(ctx, { path: port.path, baudRate: port.baud, protocol: port.protocol, devices });
  });
  // CAP warnings from the township (shell/township-cap.ts): wired with or without an uplink.
  const capInbox = new TownshipCapInbox(ctx, sink);
  // The panel: loaded only when the site has one (Fastify is a few MB the box need not carry).
  const panel = config.panel ? new (await import('./panel/server.ts')).PanelServer({ ctx, sink, store, engine, uplink: () => uplink?.state() ?? null, problems }, { ...config.panel, ...(o.panelPort === undefined ? {} : { port: o.panelPort }) }) : null;
  // The physical panel: johnny-five and firmata-io are loaded only when the site has one.
  const panelHw = config.panelHw ? new (await import('../drivers/panel-hw/panel-hw.ts')).PanelHw({ ctx, sink, engine, uplink: () => uplink?.state() ?? null }, config.panelHw, o.panelHw) : null;
  if (panelHw) {
    panelHwProblems = () => panelHw.problems();
    panelHw.onChange(() => publisher.status());
  }
  // The scheduled self-tests (gateway/schedule/); every cron of the box, the store's too, runs in the site's offset.
  useSiteZone(config.site.utcOffset);
  const selfTests = new SelfTests(ctx, sink, { active: () => engine.active(), drillRunning: () => engine.read((c) => c.planner.drill !== null), selfTest: (r, e) => engine.selfTest(r, e) }, store);
  // Start order (stop is the reverse): the log first, so every event has a home; the drivers
  // after the engine, so the first readings find it listening; the CAP inbox after the engine
  // too, so a warning's command finds it; the publisher, the panel (its commands find the engine),
  // then the uplink last (its start never
  // waits on the network; its stop is bounded and comes first).
  const modules: Module[] = [store, broker, engine, ...serialLines, ...fieldBuses, ...(speakers ? [speakers] : []), ...(ipSpeakers ? [ipSpeakers] : []), capInbox, actuators, publisher, selfTests, ...(panel ? [panel] : []), ...(panelHw ? [panelHw] : []), ...(backup ? [backup] : []), ...(uplink ? [uplink] : [])];
  const supervisor = new Supervisor(modules, o.log);
  await supervisor.start();
  o.log.info({ config: loggableConfig(config) }, 'effective config');
  record(ctx, sink, 'start', { boot: clock.boot, site: config.site.id, sensors: config.sensors.length, actuators: config.actuators.length, buses: config.buses.length, clock_trusted: clock.trusted() });
  // After a restart: the actuators listen now (EngineRunner.resume); the alert topics say again what is active.
  publisher.republish(engine.resume());
  let stopped: Promise<void> | null = null;
  return {
    ctx,
    broker,
    store,
    engine,
    uplink,
    panel,
    backup,
    speakers,
    panelHw,
    ipSpeakers,
    selfTests,
    stop(reason = 'stop') {
      stopped ??= (async () => {
        engine.windDown();
        record(ctx, sink, 'stop', { boot: clock.boot, reason });
        await supervisor.stop();
      })();
      return stopped;
    },
  };
}
