/**
 * The duty officer's panel server (issue 17): a Fastify HTTP server with the JSON API under
 * /api/ (README "Panel API"); the page is routes-page.ts. A Module: started after the engine and the
 * publisher, stopped before them; a panel that cannot bind its port is logged and retried by
 * the supervisor like any module, and never stops the alarm path.
 *
 * Nothing here is heavy on the event loop: big event queries are paged (store/event-query.ts),
 * CSV is streamed, the live stream's bus listener only queues, and password checks run scrypt
 * off the main thread behind the broker's gates (sign-in.ts).
 */
import cookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { PanelConfig } from '../config/types.ts';
import type { EngineRunner } from '../shell/engine-runner.ts';
import type { Module } from '../shell/module.ts';
import type { EventSink } from '../shell/record.ts';
import type { EventStore } from '../store/event-store.ts';
import { wallTime } from '../wire.ts';
import { installErrors } from './errors.ts';
import { LiveFeed } from './live.ts';
import { PanelRecorder } from './recorder.ts';
import { commandRoutes } from './routes-commands.ts';
import { eventRoutes } from './routes-events.ts';
import { pageRoutes } from './routes-page.ts';
import { sensorRoutes } from './routes-sensors.ts';
import { sessionRoutes } from './routes-session.ts';
import { stateRoutes } from './routes-state.ts';
import { Sessions } from './sessions.ts';
import { panelAuthenticator } from './sign-in.ts';
import { diskState, panelState, Watched } from './state.ts';
import { watchBroadcasts } from './broadcast-watch.ts';
import { drillRoutes } from './routes-drills.ts';
import { recordRoutes, type RouteEntry } from './route-table.ts';
import { recordingRoutes } from './routes-recordings.ts';
import type { BoxContext, UplinkState } from './state-types.ts';

export interface PanelDeps {
  ctx: BoxContext;
  sink: EventSink;
  store: EventStore;
  engine: EngineRunner;
  uplink(): UplinkState | null;
  /** The box's status problems (box.ts): storage, backup, physical panel. */
  problems(): string[];
}

/** Request bodies are small JSON (a command is at most mqtt.max_payload_bytes); anything bigger is refused. */
const BODY_LIMIT = 64 * 1024;

export class PanelServer implements Module {
  readonly name = 'panel';
  private app: FastifyInstance | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private offs: (() => void)[] = [];
  readonly sessions: Sessions;
  private readonly live: LiveFeed;
  private readonly log: Logger;
  private readonly watched = new Watched();
  private readonly rec: PanelRecorder;
  private boundPort: number | null = null;
  private readonly routeTable: RouteEntry[] = [];

  constructor(private readonly deps: PanelDeps, private readonly cfg: PanelConfig) {
    const { ctx } = deps;
    this.log = ctx.log.child({ module: 'panel' });
    // The monotonic clock: a wall clock set at boot (NTP, 1970 → 2026) must not end or extend every session.
    this.sessions = new Sessions(cfg.sessionIdleH * 3600_000, () => ctx.clock.mono());
    this.rec = new PanelRecorder(ctx, deps.sink, this.log);
    this.live = new LiveFeed(ctx, () => this.state('live'), this.log);
    this.sessions.onEnd((s, reason) => {
      this.live.endSession(s.token);
      this.rec.session(reason === 'signed_out' ? 'sign_out' : reason, s.username, s.role, s.address);
    });
  }

  /** Every route registered, method and URL (route-table.ts): for the security test. */
  get routes(): readonly RouteEntry[] {
    return this.routeTable;
  }

  /** The bound port (config 0 = ephemeral); null before start. */
  get port(): number | null {
    return this.boundPort;
  }

  private async state(by: string): Promise<Record<string, unknown>> {
    const disk = await diskState(this.deps.ctx.config.store.path);
    return panelState({ ctx: this.deps.ctx, engine: this.deps.engine, storeHealth: () => this.deps.store.health(), uplink: this.deps.uplink, problems: this.deps.problems }, this.watched, by, disk);
  }

  async start(): Promise<void> {
    const { ctx, store } = this.deps;
    const app = Fastify({ loggerInstance: this.log as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: BODY_LIMIT, trustProxy: false,
      // Unknown keys are refused, not silently dropped (Fastify's default removes them), as the config and the broker do.
      ajv: { customOptions: { removeAdditional: false } }, return503OnClosing: true, forceCloseConnections: true });
    await app.register(cookie);
    installErrors(app, this.log);
    recordRoutes(app, this.routeTable);
    app.decorateRequest('session', null);
    const auth = panelAuthenticator(ctx.config, () => ctx.clock.mono());
    const wall = (monoMs: number): string => wallTime(ctx.clock.wall() + monoMs - ctx.clock.mono(), ctx.config.site.utcOffset);
    // The officer's page at `/` and its files (routes-page.ts).
    await pageRoutes(app, ctx, this.sessions, this.log);
    sessionRoutes(app, this.sessions, auth, this.rec, wall, () => ctx.clock.mono());
    stateRoutes(app, this.sessions, (by) => this.state(by), this.live);
    commandRoutes(app, ctx, this.sessions);
    eventRoutes(app, ctx, store, this.sessions);
    sensorRoutes(app, ctx, store, this.sessions, this.deps.engine);
    drillRoutes(app, ctx, store, this.sessions);
    recordingRoutes(app, ctx, this.deps.sink, this.sessions);
    this.offs.push(
      ctx.bus.on('reading', (r) => this.watched.readings.set(r.sensor, { value: r.value, quality: r.quality, at: ctx.clock.wall() })),
      ctx.bus.on('actuatorReport', (r) => {
        this.watched.reports.set(r.actuator, { ...r, at: ctx.clock.wall() });
        if (r.report === 'fault') this.watched.faults.set(r.actuator, { ...r, at: ctx.clock.wall() });
      }),
    );
    this.offs.push(...watchBroadcasts(ctx, this.deps.engine, this.watched.broadcasts, () => this.live.refresh()));
    this.live.start();
    this.app = app;
    try {
      await app.listen({ host: this.cfg.host, port: this.cfg.port });
    } catch (err) {
      // The supervisor retries start(): leave nothing behind (listeners, a half-built server).
      await this.stop();
      throw err;
    }
    const addr = app.server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.cfg.port;
    // Expired sessions end on time, and their live streams with them.
    const every = Math.min(30_000, Math.max(250, this.sessions.idleMs / 4));
    this.sweeper = setInterval(() => this.sessions.sweep(), every);
    this.log.info({ host: this.cfg.host, port: this.boundPort, session_idle_h: this.cfg.sessionIdleH }, 'panel API listening');
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const off of this.offs) off();
    this.offs = [];
    this.live.stop();
    const app = this.app;
    this.app = null;
    if (app) await app.close();
  }
}
