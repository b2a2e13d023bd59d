/**
 * The box's own MQTT broker (Aedes 1.x, embedded through its hooks — STYLE.md). Field devices
 * publish readings and reports to it, officers and the township send commands, the panel
 * watches over WebSocket, and the box publishes alerts, events, status and actuator commands.
 *
 * Decisions (each tested in test/integration/broker-*.test.ts):
 * - **MQTT 3.1.1 only.** Aedes 1.x answers a protocol level 5 CONNECT with CONNACK 1
 *   (unacceptable protocol version); we do not fork it. It would take MQTT 3.1 (level 3), which
 *   preConnect refuses with CONNACK 1 as well. MQTT 5 is for the uplink client. Client ids over
 *   128 bytes get CONNACK 2; ill-formed UTF-8 closes the connection (connect-check.ts).
 * - **Nobody is anonymous**: CONNACK 5 without a username, 4 for an unknown user or a wrong
 *   secret, 5 while a username+address is locked out after repeated failures, 3 while the
 *   bounded secret checks are busy (auth.ts).
 * - **Client ids are per account**: preConnect rewrites a client id `x` to `<username>:x`, so
 *   one account can never take over (or read the session of) another account's client id; the
 *   same account reusing an id takes its own session over, as MQTT says. Clients never see
 *   their id in 3.1.1, so this is invisible to them.
 * - **Clean sessions only**: preConnect forces `clean = true`. A memory-only broker that
 *   queued QoS 1 messages for every persistent session that never returns would grow without
 *   bound over days; a reconnecting client resubscribes and gets current state from the
 *   retained `alert/#` and `status` topics.
 * - **ACL** in acl.ts, applied on publish, subscribe (SUBACK 0x80) and forward (live and
 *   retained messages: retained ones delivered past the ACL are a known broker hole). A last will is checked at CONNECT (CONNACK 5 if its
 *   topic is not the device's own status topic).
 * - **Dropping without disconnecting.** When aedes' authorizePublish calls back with an error,
 *   aedes emits `clientError` and closes the connection (MQTT-3.3.5-2 allows that or a
 *   positive ack). A flaky sensor must not be kicked off, and a kicked device would reconnect
 *   and cost a scrypt check each time, so we never call back with an error: a publish that is
 *   denied or whose payload is bad is acknowledged normally (PUBACK for QoS 1), its payload is
 *   swapped for an empty marker buffer, its retain flag cleared, and authorizeForward refuses
 *   any packet carrying a marker, so no subscriber sees it and nothing is retained.
 * - **Readings, reports and commands reach the bus from authorizePublish**, synchronously and
 *   before forwarding, so a slow subscriber never delays an alarm. At-least-once: a QoS 1/2
 *   resend after a lost ack arrives twice (the engine dedupes readings).
 * - Only a device's own `device/<id>/status` may be retained by a client; other client
 *   publishes are stored unretained. The box retains what it chooses via `publish()`.
 * - **No lost messages when publishes overlap**: aedes' per-client dedupe drops a packet that
 *   is overtaken by a later one (a retained alert by a plain event); mq-schedule.ts renumbers
 *   packets as their delivery starts (moscajs/aedes#994).
 * - **A frozen subscriber holds nothing back and cannot crash the box** (issue 15). Root fix:
 *   a bounded output per client (client-output.ts): deliveries are called back at once, so no
 *   mqemitter slot waits on a socket and no backlog forms; over 256 KiB queued for a client its
 *   QoS 0 deliveries are dropped and counted, QoS 1 never; a client that stays over is cut
 *   (`drainTimeout`) and logged once. Defence in depth, for a queue that forms in a burst:
 *   mqemitter's recursive release made iterative (mq-schedule.ts; mqemitter PR #204, open).
 *   Neither aedes nor mqemitter is forked: both are wrappers installed on the one instance.
 * - **Siren commands first**: the box's own `cmd/<actuator>` publishes go ahead of any queued
 *   message (mq-schedule.ts), and reach an actuator's socket, which carries nothing else.
 * - **People see each sensor's raw readings at most once a second**, the latest always
 *   (reading-rate.ts): a screen subscribed to every reading cost the box a write per reading
 *   and delayed siren commands by seconds. authorizePublish offers each reading to the people's
 *   clients subscribed now, and its publish completes without entering aedes' emitter
 *   (mq-schedule.ts), which at 48,000 readings/s had queued 60,000 messages and run the box out
 *   of heap. authorizeForward lets through only the copies reading-rate.ts delivers.
 * - **Input in turns, within a budget** (read-turns.ts, input-budget.ts): 4 KiB of a
 *   connection's input at a time, and each account a byte rate; an account over it is not read
 *   until the budget allows (TCP slows the sender, nothing is dropped).
 * - **Connection limits** (connection-limits.ts): a total and not-yet-authenticated ones at
 *   accept (closed), per account and per role after the secret (CONNACK 3).
 */
// First: swaps mqtt-packet's disabled `debug` loggers for no-ops before it loads (quiet-debug.ts).
import './quiet-debug.ts';
import { Aedes, type AedesPublishPacket, type AuthErrorCode, type AuthenticateError, type Client, type ConnectPacket, type PublishPacket, type Subscription } from 'aedes';
import mqttPacket from 'mqtt-packet';
import type { Logger } from 'pino';
import type { SensorConfig } from '../config/types.ts';
import type { BoxContext, Module } from '../shell/module.ts';
import { withDeadline } from '../shell/timing.ts';
import { mayPublish, mayRetain, maySubscribe, mayRead, mayWill, type Principal } from './acl.ts';
import { Authenticator, DEFAULT_GATE, DEFAULT_LOCKOUT, authStatsFields } from './auth.ts';
import { logClients, remoteOf } from './client-log.ts';
import { ClientOutputs, DEFAULT_OUTPUT_LIMITS } from './client-output.ts';
import { CommandResends } from './command-resends.ts';
import { Connections, connectionLimits, serverUnavailable, siteConnectionLimits, type Refusal } from './connection-limits.ts';
import { refuseConnect, wellFormed } from './connect-check.ts';
import { Listeners } from './listeners.ts';
import { LogThrottle } from './log-throttle.ts';
import { scheduleDeliveries } from './mq-schedule.ts';
import { ReadingRate } from './reading-rate.ts';
import { DEFAULT_SLICE, InputTurns, takeInputInTurns } from './read-turns.ts';
import { DEFAULT_BUDGETS, InputBudgets } from './input-budget.ts';
import { checkCommand, commandIdOf, checkDeviceStatus, checkReading, checkReport, type Checked } from './payloads.ts';
import { BOX_TARGET, parseTopic, topics } from './topics.ts';

export { BrokerError, type BrokerOptions, type BrokerStats } from './broker-types.ts';
import { BrokerError, type BrokerOptions, type BrokerStats } from './broker-types.ts';

// mqtt-packet (aedes' packet writer) otherwise fills a cache of 65,536 two-byte Buffers, one
// per packet id, on its first write: 6.4 MB of heap (heap snapshot of the running box) to save
// one 2-byte allocation per QoS 1 packet. Its documented switch, set before any packet is written.
mqttPacket.writeToStream.cacheNumbers = false;

/** Topics have at most 3 levels below the site; alert keys a few more. */
const MAX_TOPIC_LEVELS = 16;
const LOG_EVERY_MS = 60_000;
/**
 * A packet may exceed the payload limit by its topic, client id, credentials or a SUBSCRIBE's
 * filter list; beyond this it is not one of ours and the connection is closed (frame-guard.ts).
 * A payload between the limit and this is acknowledged and dropped like any bad payload.
 */
const PACKET_OVERHEAD = 4096;

function authError(returnCode: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: returnCode as AuthErrorCode });
}

export class BrokerModule implements Module {
  readonly name = 'broker';
  private readonly log: Logger;
  private readonly site: string;
  private readonly sensors: Map<string, SensorConfig>;
  private readonly auth: Authenticator;
  private readonly throttle: LogThrottle;
  private readonly principals = new WeakMap<Client, Principal>();
  private readonly wills = new WeakMap<Client, ConnectPacket['will']>();
  /** Clients whose client id authenticate() refuses with CONNACK 2, before any scrypt. */
  private readonly idRejected = new WeakSet<Client>();
  /** Payload markers of dropped publishes; authorizeForward refuses them. */
  private readonly dropped = new WeakSet<Buffer>();
  /** QoS 1 commands each client sent lately, to spot resends (DUP = 1). */
  private readonly resends = new CommandResends();
  /** Payloads of the box's own commands to actuators; mq-schedule.ts puts them first. */
  private readonly urgent = new WeakSet<Buffer>();
  private readonly outputs: ClientOutputs;
  private readonly readingRate: ReadingRate;
  /** The one input scheduler: light connections read at once, heavy ones in bounded slices a loop turn (read-turns.ts). */
  private readonly inputTurns: InputTurns;
  /** Each account's input budget (input-budget.ts). */
  private readonly inputBudgets: InputBudgets;
  /** People's clients that may read readings and have subscribed to something (reading-rate.ts). */
  private readonly readingSubscribers = new Set<Client>();
  /** Publishes the broker delivered itself (readings): mq-schedule.ts completes them unqueued. */
  private readonly direct = new WeakSet<Buffer>();
  private readonly connections: Connections;
  private readonly counts = { authFailures: 0, aclDenials: 0, rejectedReadings: 0, rejectedCommands: 0, rejectedOther: 0, refusedConnections: 0 };
  private readonly drainTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly stopDeadlineMs: number;
  private readonly publishTimeoutMs: number;
  private aedes: Aedes | null = null;
  private listeners: Listeners | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly ctx: BoxContext, private readonly opts: BrokerOptions = {}) {
    this.log = ctx.log.child({ module: 'broker' });
    this.site = ctx.config.site.id;
    this.sensors = new Map(ctx.config.sensors.map((s) => [s.id, s]));
    this.auth = new Authenticator(ctx.config, { ...DEFAULT_LOCKOUT, ...opts.lockout }, () => ctx.clock.mono(), { ...DEFAULT_GATE, ...opts.authGate }, opts.verifySecret);
    this.throttle = new LogThrottle(LOG_EVERY_MS, () => ctx.clock.mono());
    this.drainTimeoutMs = opts.drainTimeoutMs ?? 5000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.stopDeadlineMs = opts.stopDeadlineMs ?? 3000;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? this.drainTimeoutMs + 1000;
    this.connections = new Connections(connectionLimits(opts.connections, siteConnectionLimits(ctx.config.mqtt.accounts)));
    this.readingRate = new ReadingRate(opts.peopleReadingIntervalMs ?? 1000, () => ctx.clock.mono(), (client, packet) => {
      (client as unknown as { deliver0: (p: AedesPublishPacket, cb: () => void) => void }).deliver0(packet, () => undefined);
    });
    this.inputTurns = new InputTurns({ ...DEFAULT_SLICE, ...opts.inputSlice });
    this.inputBudgets = new InputBudgets({ ...DEFAULT_BUDGETS, ...opts.inputBudgets }, () => performance.now());
    this.outputs = new ClientOutputs({ ...DEFAULT_OUTPUT_LIMITS, maxDroppingMs: this.drainTimeoutMs, ...opts.output }, () => ctx.clock.mono());
  }

  /** The TCP port actually listened on (0 before start). */
  get tcpPort(): number {
    return this.listeners?.tcpPort ?? 0;
  }

  /** The WebSocket port actually listened on (0 before start or when off). */
  get wsPort(): number {
    return this.listeners?.wsPort ?? 0;
  }

  stats(): BrokerStats {
    const { open, unauthenticated } = this.connections.counts();
    return { clients: this.aedes && !this.aedes.closed ? this.aedes.connectedClients : 0, openConnections: open, unauthenticatedConnections: unauthenticated, ...this.counts, auth: this.auth.stats() };
  }

  async start(): Promise<void> {
    if (this.aedes) throw new Error('broker already started');
    this.stopping = null;
    const { mqtt } = this.ctx.config;
    if (this.ctx.config.actuators.some((a) => a.id === BOX_TARGET)) {
      this.log.error({ actuator: BOX_TARGET }, `an actuator named '${BOX_TARGET}' cannot be commanded over MQTT: cmd/${BOX_TARGET} addresses the box`);
    }
    const aedes = new Aedes({
      // Messages in delivery at once; no delivery waits on a socket (client-output.ts).
      concurrency: 256,
      drainTimeout: this.drainTimeoutMs,
      connectTimeout: this.connectTimeoutMs,
      // Packets a client may pipeline after CONNECT while its secret is still being checked.
      queueLimit: 32,
      // Drives aedes' $SYS heartbeat and its check for orphaned wills (every 4 beats).
      heartbeatInterval: 30_000,
      maxTopicLevels: MAX_TOPIC_LEVELS,
      maxInflightInbound: 100,
      preConnect: (client, packet, cb) => this.preConnect(client, packet, cb),
      authenticate: (client, username, password, cb) => this.authenticate(client, username, password, (err, ok) => this.admitAccount(client, err, ok, cb)),
      authorizePublish: (client, packet, cb) => this.authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => this.authorizeSubscribe(client, sub, cb),
      authorizeForward: (client, packet) => this.authorizeForward(client, packet),
    });
    scheduleDeliveries(aedes, (p) => Buffer.isBuffer(p.payload) && this.urgent.has(p.payload), (p) => Buffer.isBuffer(p.payload) && this.direct.has(p.payload));
    this.aedes = aedes;
    logClients(aedes, this.log, (c) => this.principals.get(c), (c) => this.outputs.droppedOf(c));
    aedes.on('clientDisconnect', (c) => {
      this.readingRate.forget(c);
      this.readingSubscribers.delete(c);
      const p = this.principals.get(c);
      if (p) this.auth.sessionEnded(p.username, remoteOf(c));
    });
    const listeners = new Listeners((stream, req) => void aedes.handle(stream, req));
    this.listeners = listeners;
    const tcpPort = this.opts.tcpPort ?? mqtt.port;
    const wsPort = this.opts.wsPort ?? (mqtt.wsPort === 0 ? null : mqtt.wsPort);
    try {
      await aedes.listen();
      await listeners.open({
        host: mqtt.host,
        tcpPort,
        wsPort,
        maxPacketBytes: mqtt.maxPayloadBytes + PACKET_OVERHEAD,
        onOversize: (remote, bytes) => this.warn(`oversize:${remote}`, { remote, declared_bytes: bytes }, 'connection closed: MQTT packet over the size limit'),
        admit: (stream, remote) => {
          const refusal = this.connections.accept(stream);
          if (refusal) this.refused(refusal, { remote });
          return refusal === null;
        },
      });
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.log.info({ host: mqtt.host, tcp_port: this.tcpPort, ws_port: wsPort === null ? 'off' : this.wsPort, accounts: mqtt.accounts.length }, 'broker listening');
  }

  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    const aedes = this.aedes;
    const listeners = this.listeners;
    const stopped = listeners?.stopAccepting() ?? Promise.resolve();
    if (aedes && !aedes.closed) await withDeadline(new Promise<void>((r) => aedes.close(r)), this.stopDeadlineMs / 2, () => undefined);
    listeners?.destroyAll();
    await withDeadline(stopped, this.stopDeadlineMs / 2, () => undefined);
    this.aedes = null;
    this.listeners = null;
    this.log.info({ stats: this.counts, auth: authStatsFields(this.auth.stats()) }, 'broker stopped');
  }

  /**
   * Publishes as the box itself (no ACL), under this site's root. Resolves when aedes has
   * stored (if retained) and handed the message to every subscriber.
   */
  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const aedes = this.aedes;
    if (!aedes || aedes.closed || this.stopping) return Promise.reject(new BrokerError('E_BROKER_DOWN', 'broker is not running'));
    const root = `${topics(this.site).root}/`;
    if (!topic.startsWith(root) || topic.length === root.length || /[+#\u0000]/.test(topic)) {
      return Promise.reject(new BrokerError('E_BROKER_TOPIC', `'${topic}' is not a concrete topic under ${root}`));
    }
    // A command to an actuator (a siren) goes ahead of any queue (mq-schedule.ts), marked by
    // its payload: a buffer only this message carries.
    const urgent = parseTopic(this.site, topic)?.kind === 'actuatorCommand';
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : urgent ? Buffer.from(payload) : payload;
    if (urgent) this.urgent.add(body);
    const packet: PublishPacket = { cmd: 'publish', topic, payload: body, qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: false };
    const published = new Promise<void>((resolve, reject) => {
      aedes.publish(packet, (err) => {
        if (err) reject(new BrokerError('E_BROKER_PUBLISH', `publish to ${topic} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
    return withDeadline(published, this.publishTimeoutMs, (ms): never => {
      throw new BrokerError('E_BROKER_TIMEOUT', `publish to ${topic} not finished in ${ms} ms`);
    });
  }

  private warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const t = this.throttle.take(key);
    if (t) this.log.warn(t.suppressed ? { ...fields, suppressed: t.suppressed } : fields, msg);
  }

  /** One line per flood of refusals of one kind (LogThrottle: then one a minute, with the count). */
  private refused(r: Refusal, fields: Record<string, unknown>, account?: string, role?: Principal['role']): void {
    this.counts.refusedConnections++;
    this.warn(`limit:${r.limit}:${account ?? role ?? ''}`, { limit: r.limit, max: r.max, ...fields, ...this.connections.counts(account, role) }, 'connection refused: too many connections');
  }

  /** After authenticate(): the account's and role's connection limits (connection-limits.ts). */
  private admitAccount(client: Client, err: AuthenticateError | null, ok: boolean | null, cb: (err: AuthenticateError | null, ok: boolean | null) => void): void {
    const p = this.principals.get(client);
    if (err || !ok || !p) return cb(err, ok);
    const refusal = this.connections.authenticated(client.conn, p.username, p.role, client.id);
    if (!refusal) return cb(null, ok);
    this.principals.delete(client);
    this.refused(refusal, { username: p.username, role: p.role, remote: remoteOf(client) }, p.username, p.role);
    cb(serverUnavailable(refusal), false);
  }

  // ---- aedes hooks ----------------------------------------------------------------------

  private preConnect(client: Client, packet: ConnectPacket, cb: (err: Error | null, ok: boolean) => void): void {
    const refusal = refuseConnect(packet);
    if (refusal) {
      const remote = remoteOf(client);
      this.warn(`connect:${remote}:${refusal.reason}`, { remote, reason: refusal.reason, protocol_version: packet.protocolVersion }, 'connection refused');
      // §1.5.3: ill-formed UTF-8 closes the connection; aedes does so when preConnect fails.
      if (refusal.action === 'close') return cb(new Error(`connection closed: ${refusal.reason}`), false);
      // Aedes answers CONNACK 1 to any level but 3 and 4 ([MQTT-3.1.2-2]); handing it level 5
      // takes 3.1 clients down that path (preConnect has no return code of its own).
      if (refusal.returnCode === 1) packet.protocolVersion = 5;
      else this.idRejected.add(client);
    }
    packet.clean = true;
    this.outputs.install(client);
    takeInputInTurns(client, this.inputTurns, () => {
      const p = this.principals.get(client);
      return p ? this.inputBudgets.bucket(p.username, p.role) : null;
    });
    if (packet.clientId && typeof packet.username === 'string' && packet.username !== '') packet.clientId = `${packet.username}:${packet.clientId}`;
    this.wills.set(client, packet.will);
    cb(null, true);
  }

  private authenticate(client: Client, username: string | undefined, password: Buffer | undefined, cb: (err: AuthenticateError | null, ok: boolean | null) => void): void {
    const remote = remoteOf(client);
    if (this.idRejected.has(client)) return cb(authError(2, 'identifier rejected'), false);
    this.auth.check(username, password, remote, () => client.closed).then(
      (r) => {
        if (!r.ok) {
          this.counts.authFailures++;
          // Busy refusals are logged once a minute per username and reason, not per address (a flood has many).
          const k = r.reason === 'busy' || r.reason === 'gone' ? `auth:${username ?? ''}:${r.reason}` : `auth:${username ?? ''}@${remote}:${r.reason}`;
          this.warn(k, { username: username ?? null, remote, reason: r.reason, return_code: r.returnCode, locked_for_ms: r.lockedForMs }, 'connection refused');
          return cb(authError(r.returnCode, `connection refused: ${r.reason}`), false);
        }
        const will = this.wills.get(client);
        if (will) {
          const t = parseTopic(this.site, will.topic);
          const size = Buffer.byteLength(will.payload);
          if (!mayWill(r.principal, t) || size > this.ctx.config.mqtt.maxPayloadBytes) {
            this.counts.aclDenials++;
            this.warn(`will:${r.principal.username}`, { username: r.principal.username, remote, topic: will.topic, bytes: size }, 'connection refused: last will not allowed');
            return cb(authError(5, 'last will not allowed'), false);
          }
        }
        this.principals.set(client, r.principal);
        cb(null, true);
      },
      (err: unknown) => {
        this.log.error({ err, username, remote }, 'authentication failed unexpectedly');
        cb(authError(5, 'authentication error'), false);
      },
    );
  }

  /** Never calls back with an error (that would disconnect the client); see the header. */
  private authorizePublish(client: Client | null, packet: PublishPacket, cb: (err?: Error | null) => void): void {
    try {
      // §1.5.3: the one bad publish that closes the connection ([MQTT-1.5.3-1]).
      if (!wellFormed(packet.topic)) return this.illFormed(client, cb);
      const t = parseTopic(this.site, packet.topic);
      if (client === null) {
        // An orphaned last will, published by aedes after its owner's broker vanished. Wills
        // were checked against the ACL at CONNECT; only status topics are ever stored.
        return t?.kind === 'deviceStatus' ? cb(null) : cb(new Error('will not allowed'));
      }
      const p = this.principals.get(client);
      if (!p) return cb(new Error('not authenticated'));
      if (!mayPublish(p, t)) {
        this.counts.aclDenials++;
        this.warn(`pub:${p.username}:${packet.topic}`, { username: p.username, role: p.role, topic: packet.topic }, 'publish denied');
        return this.drop(packet, cb);
      }
      if (packet.retain && !mayRetain(t)) packet.retain = false;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      const max = this.ctx.config.mqtt.maxPayloadBytes;
      switch (t!.kind) {
        case 'sensorReading': {
          const r = checkReading(this.sensors.get(p.username), payload, max, this.ctx.clock.mono());
          if (!r.ok) return this.reject('rejectedReadings', { sensor: p.username }, r, packet, cb);
          this.ctx.bus.emit('reading', r.value);
          // People's clients get it from here, rate-limited; it never enters aedes' emitter.
          this.readingRate.offer(t!.sensor, packet as AedesPublishPacket, this.readingSubscribers);
          // aedes emits a packet object of its own, with the same payload buffer: mark that.
          this.direct.add(payload);
          packet.payload = payload;
          break;
        }
        case 'actuatorReport': {
          const r = checkReport(p.username, payload, max);
          if (!r.ok) return this.reject('rejectedOther', { actuator: p.username }, r, packet, cb);
          this.ctx.bus.emit('actuatorReport', r.value);
          break;
        }
        case 'boxCommand': {
          if (this.resends.isResend(client, packet)) {
            this.log.info({ username: p.username, message_id: packet.messageId }, 'command resent (DUP): already acted on, dropped');
            return this.drop(packet, cb);
          }
          const r = checkCommand(payload, max, p.username, p.role, this.ctx.config.broadcasts.templates);
          if (!r.ok) {
            // The sender hears why, on cmd/box/result (the publisher's), with its command_id if it gave one it can read.
            this.ctx.bus.emit('commandResult', { commandId: commandIdOf(payload, max), ok: false, error: `${r.reason}: ${r.detail}`, by: p.username, via: 'mqtt' });
            return this.reject('rejectedCommands', { username: p.username, role: p.role }, r, packet, cb);
          }
          this.log.info({ username: p.username, role: p.role, command: r.value.type }, 'command received');
          this.ctx.bus.emit('command', r.value, { by: p.username, role: p.role, via: 'mqtt' });
          break;
        }
        case 'deviceStatus': {
          const r = checkDeviceStatus(payload, max);
          if (!r.ok) return this.reject('rejectedOther', { device: p.username }, r, packet, cb);
          break;
        }
        default:
          break;
      }
      cb(null);
    } catch (err) {
      this.log.error({ err, topic: packet.topic }, 'publish handling failed; message dropped');
      this.drop(packet, cb);
    }
  }

  private reject(counter: 'rejectedReadings' | 'rejectedCommands' | 'rejectedOther', who: Record<string, string>, r: Checked<unknown> & { ok: false }, packet: PublishPacket, cb: (err?: Error | null) => void): void {
    this.counts[counter]++;
    this.warn(`${counter}:${Object.values(who).join(':')}:${r.reason}`, { ...who, reason: r.reason, detail: r.detail }, 'message rejected');
    this.drop(packet, cb);
  }

  /** Calls back with an error, so aedes closes the connection (MQTT 3.1.1 §1.5.3). */
  private illFormed(client: Client | null, cb: (err: Error | null) => void): void {
    const username = client ? this.principals.get(client)?.username ?? null : null;
    this.warn(`utf8:${username}`, { username, reason: 'ill_formed_utf8' }, 'connection closed: topic is not well-formed UTF-8');
    cb(new Error('topic is not well-formed UTF-8'));
  }

  /** Acknowledge normally, but let nothing of it reach a subscriber or the retained store. */
  private drop(packet: PublishPacket, cb: (err?: Error | null) => void): void {
    const marker = Buffer.alloc(0);
    this.dropped.add(marker);
    packet.payload = marker;
    packet.retain = false;
    cb(null);
  }

  private authorizeSubscribe(client: Client, sub: Subscription, cb: (err: Error | null, sub?: Subscription | null) => void): void {
    if (!wellFormed(sub.topic)) return this.illFormed(client, cb);
    const p = this.principals.get(client);
    if (p && maySubscribe(this.site, p, sub.topic)) {
      if (mayRead(p, { kind: 'sensorReading', sensor: '' })) this.readingSubscribers.add(client);
      return cb(null, sub);
    }
    this.counts.aclDenials++;
    this.warn(`sub:${p?.username ?? client.id}:${sub.topic}`, { username: p?.username ?? null, topic: sub.topic }, 'subscription denied');
    cb(null, null); // SUBACK 0x80 for this filter; the connection stays
  }

  private authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    if (Buffer.isBuffer(packet.payload) && this.dropped.has(packet.payload)) return null;
    const p = this.principals.get(client);
    const t = parseTopic(this.site, packet.topic);
    if (!p || !mayRead(p, t)) return null;
    // Readings reach people's clients only as reading-rate.ts's copies (offered from
    // authorizePublish); a reading that came this way anyway is held to the same rate.
    if (t?.kind === 'sensorReading' && p.role !== 'device' && !this.readingRate.admit(client, t.sensor, packet)) return null;
    return packet;
  }
}
