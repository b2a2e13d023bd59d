/**
 * The township uplink (issue 16, README "Township uplink"): an ordinary MQTT client of the
 * township's broker, and a cursor over the box's own event log. The shell around the pure
 * outbox (outbox.ts): it reads the log a page at a time, publishes what the outbox hands out,
 * tells it of PUBACKs and of the link dying, persists the cursor, and reconnects with jittered
 * backoff. Inbound, it checks township commands like the local broker does and passes CAP
 * messages on to the CAP inbox.
 *
 * Nothing local waits on it (peer-lessons 4): `start()` returns before any connection is tried,
 * its work runs in later turns of the event loop (after the siren commands: afterCommands), every
 * connect and publish has a deadline, and `stop()` is bounded.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { MqttClient } from 'mqtt';
import type { UplinkConfig } from '../config/types.ts';
import { afterCommands } from '../shell/after-commands.ts';
import type { BoxStatus, CommandResult, UplinkState } from '../shell/bus.ts';

export type { UplinkState };
import type { BoxContext, Module } from '../shell/module.ts';
import { backoffDelay, withDeadline, type BackoffPolicy } from '../shell/timing.ts';
import type { StoredEvent } from '../store/types.ts';
import { wallTime } from '../wire.ts';
import type { AlertTransition } from '../engine/types.ts';
import { alertMessage } from './alert-out.ts';
import { CapOut } from './cap-out.ts';
import { eventWire, isUrgent, isUrgentAlert } from './event-wire.ts';
import { RollupPump, type RollupStore } from './rollup-pump.ts';
import { townshipTopics } from './township-topics.ts';
import { inbound } from './inbound.ts';
import { openLink, LinkError, type Link } from './link.ts';

import { Outbox, type Send } from './outbox.ts';
import type { SideMessage } from './side-message.ts';

/** The meta row of the cursor: every event with seq ≤ it is at the township. */
export const CURSOR_KEY = 'uplink_acked';

/** What the uplink needs of the event log (EventStore implements it). */
export interface UplinkStore extends RollupStore {
  since(seq: number, limit?: number): StoredEvent[];
  durableSeq(): number;
  lastSeq(): number;
  /** Events with a seq above this (seqs have gaps). */
  countSince(seq: number): number;
  setRetainAfterSeq(seq: number): void;
  /** Told when the disk confirms events up to a seq; returns the unsubscribe. Optional: without it the uplink polls. */
  onDurable?(fn: (seq: number) => void): () => void;
  metaNumber(key: string): number | null;
  setMetaNumber(key: string, value: number): boolean;
}

export interface UplinkTimings {
  /** Jittered backoff: the n-th retry waits between half and all of min(firstMs·2ⁿ, maxMs). */
  retryFirstMs: number;
  retryMaxMs: number;
  /** No CONNACK within this: the attempt failed. */
  connectDeadlineMs: number;
  /** No PUBACK within this for a message in flight: the link is dead. */
  pubackDeadlineMs: number;
  /** The cursor is written at most this often (at-least-once: a lost write only means duplicates). */
  cursorEveryMs: number;
  /** The status is refreshed this often while it changes. */
  statusEveryMs: number;
  /** An event sent within this long of being logged (this run) is `live: true`. */
  liveWithinMs: number;
  /** Rollups are looked for this often (and at each connect). */
  rollupEveryMs: number;
}

export const DEFAULT_TIMINGS: UplinkTimings = {
  retryFirstMs: 1000,
  retryMaxMs: 60_000,
  connectDeadlineMs: 10_000,
  pubackDeadlineMs: 10_000,
  cursorEveryMs: 500,
  statusEveryMs: 5000,
  liveWithinMs: 10_000,
  rollupEveryMs: 30_000,
};

/** A link up this long without trouble resets the backoff. */
const STABLE_MS = 30_000;

/** Rows read from the log at once: 256 parse in well under a millisecond, so a siren never waits behind a page. */
export const PAGE = 256;

export class Uplink implements Module {
  readonly name = 'uplink';
  private readonly log: Logger;
  private readonly t: UplinkTimings;
  private readonly topics;
  private readonly site: string;
  private readonly by: string;
  private outbox: Outbox<StoredEvent> | null = null;
  private link: Link | null = null;
  private protocol: 4 | 5;
  private password: string | null = null;
  private running = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private durableTimer: NodeJS.Timeout | null = null;
  private durableWaitMs = 1;
  private waitingDurable = false;
  private readonly urgentSeqs: number[] = [];
  private pumpDue = false;
  private persisted = 0;
  private lastPersistAt = 0;
  private offlineSince: number;
  private lastBoxStatus: BoxStatus | null = null;
  private offs: (() => void)[] = [];
  private statusListeners: (() => void)[] = [];
  private lastStateKey = '';
  private rollupTimer: NodeJS.Timeout | null = null;
  private cap: CapOut;
  private rollups: RollupPump;
  /** Counters: how often the link died, why, and what was refused. */
  readonly counts = { connects: 0, linkLosses: 0, refusedEvents: 0, pubackTimeouts: 0, commands: 0, rejectedCommands: 0, cap: 0 };

  constructor(
    private readonly ctx: BoxContext,
    private readonly store: UplinkStore,
    private readonly cfg: UplinkConfig,
    timings: Partial<UplinkTimings> = {},
  ) {
    this.log = ctx.log.child({ module: 'uplink' });
    this.t = { ...DEFAULT_TIMINGS, ...timings };
    this.site = ctx.config.site.id;
    this.topics = townshipTopics(this.site);
    this.by = `township:${cfg.username ?? 'anonymous'}`;
    this.protocol = cfg.protocolVersion;
    this.offlineSince = ctx.clock.wall();
    this.cap = new CapOut(ctx.config);
    this.rollups = new RollupPump(store, ctx.config.site, (m) => this.outbox!.addSide(m, this.store.lastSeq()), this.log);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.offlineSince = this.ctx.clock.wall();
    this.readPassword();
    // The cursor now (the store started before us), so producers' side messages have a queue at once.
    this.ensureOutbox();
    const { bus } = this.ctx;
    this.offs.push(
      bus.on('logged', (e) => {
        // Read back and queued after the siren commands are out, not inside the engine's step.
        if (isUrgent(e.type, e.payload)) this.urgentSeqs.push(e.seq);
        this.schedulePump();
      }),
      bus.on('status', (s) => {
        this.lastBoxStatus = s;
        if (this.link) this.sendStatus();
      }),
      bus.on('commandResult', (r) => this.commandResult(r)),
      // Emitted once the transition is in the log (engine-runner recordAll), faults included.
      bus.on('transition', (t) => this.alertTransition(t)),
    );
    this.rollupTimer = setInterval(() => this.pumpRollups(), this.t.rollupEveryMs).unref();
    const offDurable = this.store.onDurable?.(() => {
      if (this.waitingDurable) this.schedulePump();
    });
    if (offDurable) this.offs.push(offDurable);
    this.tickTimer = setInterval(() => this.tick(), Math.min(1000, this.t.pubackDeadlineMs / 4, this.t.cursorEveryMs)).unref();
    // The first attempt in a later turn: start() never waits on the network.
    this.scheduleConnect(0);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const off of this.offs) off();
    this.offs = [];
    for (const t of [this.retryTimer, this.durableTimer]) if (t) clearTimeout(t);
    for (const t of [this.tickTimer, this.rollupTimer]) if (t) clearInterval(t);
    this.retryTimer = this.durableTimer = this.tickTimer = this.rollupTimer = null;
    this.persistCursor(true);
    const link = this.link;
    this.link = null;
    if (!link) return;
    // A goodbye on the status topic, then a clean DISCONNECT (no will); each bounded.
    const bye = new Promise<void>((r) => link.client.publish(this.topics.status(), JSON.stringify({ state: 'offline', reason: 'stop', at: this.now() }), { qos: 1, retain: true }, () => r()));
    await withDeadline(bye, 1000, () => undefined);
    await withDeadline(link.client.endAsync(false).catch(() => undefined), 1000, () => undefined);
    link.client.end(true);
  }

  /**
   * Publishes a message for another producer (alert state, CAP, rollups) once the link is up
   * and every event logged before it has been sent. While it waits, a message with the same
   * `key` replaces the one before; the rest wait in a bounded queue (outbox DEFAULT_SIDE_LIMIT,
   * oldest without a key dropped first, counted). `urgent`: it goes with the box's own replies,
   * right after the live lane, ahead of the backlog (red/orange alert states, fire).
   */
  sendSide(msg: SideMessage, opts: { urgent?: boolean } = {}): void {
    const o = this.outbox ?? this.ensureOutbox();
    if (!o) {
      this.log.warn({ topic: msg.topic }, 'uplink side message before the cursor is known: dropped');
      return;
    }
    o.addSide(msg, this.store.lastSeq(), opts.urgent === true);
    this.schedulePump();
  }

  /**
   * Each logged alert transition: its retained state and its CAP message, both urgent for red,
   * orange and fire. Not a drill: a drill sounds sirens by command and raises no alert (planner
   * on-command.ts; on-alert.ts marks every alert's effects drill: false), so CAP is `Actual`.
   */
  private alertTransition(t: AlertTransition): void {
    const wall = this.ctx.clock.wall();
    const urgent = isUrgentAlert(t);
    try {
      this.sendSide(alertMessage(this.topics, t, wallTime(wall, this.ctx.config.site.utcOffset)), { urgent });
      const c = this.cap.message(t, wall, false);
      if ('skipped' in c) {
        this.log.info({ alert: t.alert, identifier: c.identifier, expires: c.expires, reason: c.skipped }, 'CAP message not sent: already expired');
        return;
      }
      const m = c.message;
      this.sendSide(m.expirySeconds === undefined ? m : { ...m, expiresAt: wall + m.expirySeconds * 1000 }, { urgent });
    } catch (err) {
      this.log.error({ err, alert: t.alert }, 'alert transition not sent to the township');
    }
  }

  /** Rollups go once the event backlog is (nearly) sent: they are history, the events are not. */
  private pumpRollups(): void {
    const o = this.outbox;
    if (!o || !this.link || this.store.lastSeq() - o.acked > PAGE) return;
    try {
      this.rollups.pump(this.ctx.clock.wall());
    } catch (err) {
      this.log.error({ err }, 'rollups not queued');
    }
    this.schedulePump();
  }

  /** Called whenever the state (online, waiting, cursor) may have changed, at most every statusEveryMs for the counts. */
  onStateChange(fn: () => void): void {
    this.statusListeners.push(fn);
  }

  state(): UplinkState {
    const o = this.outbox;
    const acked = o?.acked ?? this.persisted;
    const off = this.ctx.config.site.utcOffset;
    let oldest: number | null = null;
    const first = o?.firstUnacked();
    if (first) oldest = first.atWall;
    else if (this.store.lastSeq() > acked) {
      try {
        oldest = this.store.since(acked, 1)[0]?.atWall ?? null;
      } catch {
        oldest = null;
      }
    }
    return {
      online: this.link !== null,
      offline_since: this.link ? null : wallTime(this.offlineSince, off),
      events_waiting: this.eventsWaiting(acked),
      oldest_waiting_at: oldest === null ? null : wallTime(oldest, off),
      last_ack_seq: acked,
    };
  }

  private now(): string {
    return wallTime(this.ctx.clock.wall(), this.ctx.config.site.utcOffset);
  }

  /** The last exact count of waiting events (store.countSince), and where it was taken. */
  private waiting = { count: 0, acked: -1, lastSeq: 0, at: -Infinity, costMs: 0 };

  /**
   * Events not yet acknowledged. Not `lastSeq − acked`: seqs have gaps (each restart after a
   * power cut skips the seqs the previous run had reserved, 20,000 at a time), and counting them
   * told a township 20,029 events were waiting when 33 were. The exact count reads every waiting
   * row (37 ms for 1,000,000 here), so it is taken again only after 500 times its own cost (at
   * least 1 s); in between it is moved by the seqs logged and acknowledged since, which is
   * exact unless the cursor crossed a gap (then low, never below 0, until the next count).
   */
  private eventsWaiting(acked: number): number {
    const last = this.store.lastSeq();
    if (last <= acked) return 0;
    const w = this.waiting;
    const now = performance.now();
    if (w.acked < 0 || now - w.at >= Math.max(1000, 500 * w.costMs)) {
      try {
        const count = this.store.countSince(acked);
        const costMs = performance.now() - now;
        this.waiting = { count, acked, lastSeq: last, at: now, costMs };
        return count;
      } catch {
        // The log cannot be read now: the estimate below, from the last count.
      }
    }
    if (w.acked < 0) return last - acked;
    return Math.max(0, w.count + (last - w.lastSeq) - (acked - w.acked));
  }

  private readPassword(): void {
    if (!this.cfg.passwordFile) return;
    try {
      this.password = readFileSync(this.cfg.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      // The path, never the content.
      this.log.error({ password_file: this.cfg.passwordFile, code: (err as NodeJS.ErrnoException).code }, 'uplink password file cannot be read; retrying at each connection attempt');
      this.password = null;
    }
  }

  /** The cursor, from the log; null (and retried) while the log cannot be read. */
  private ensureOutbox(): Outbox<StoredEvent> | null {
    if (this.outbox) return this.outbox;
    let acked: number | null;
    try {
      acked = this.store.metaNumber(CURSOR_KEY);
    } catch (err) {
      this.log.warn({ err }, 'uplink cursor cannot be read yet (the log is not open); waiting');
      return null;
    }
    this.persisted = acked ?? 0;
    this.store.setRetainAfterSeq(this.persisted);
    this.outbox = new Outbox<StoredEvent>({ acked: this.persisted, window: this.cfg.window });
    this.log.info({ acked: this.persisted, last_seq: this.store.lastSeq() }, 'uplink cursor');
    return this.outbox;
  }

  private scheduleConnect(ms: number): void {
    if (!this.running || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, ms);
    this.retryTimer.unref();
  }

  private retryDelay(): number {
    return jitteredDelay(this.attempt++, { firstMs: this.t.retryFirstMs, maxMs: this.t.retryMaxMs });
  }

  private async connect(): Promise<void> {
    if (!this.running || this.link) return;
    if (!this.ensureOutbox()) return this.scheduleConnect(this.retryDelay());
    if (this.cfg.passwordFile && this.password === null) this.readPassword();
    let link: Link;
    try {
      link = await openLink({
        config: this.cfg,
        password: this.password,
        protocol: this.protocol,
        will: { topic: this.topics.status(), payload: JSON.stringify({ state: 'offline', reason: 'connection_lost' }) },
        connectDeadlineMs: this.t.connectDeadlineMs,
      });
    } catch (err) {
      const delay = this.retryDelay();
      const code = err instanceof LinkError ? err.code : 'network';
      this.log.warn({ err: { message: (err as Error).message, code }, url: this.cfg.url, retry_in_ms: delay }, 'uplink connection failed');
      return this.scheduleConnect(delay);
    }
    if (!this.running) {
      link.client.end(true);
      return;
    }
    if (link.protocol !== this.protocol) {
      this.log.warn({ url: this.cfg.url }, 'the township broker refused MQTT 5; using MQTT 3.1.1 for this run (no message expiry)');
      this.protocol = link.protocol;
    }
    this.attach(link);
  }

  private attach(link: Link): void {
    const { client } = link;
    this.link = link;
    this.counts.connects++;
    client.on('error', (err) => this.log.warn({ err: { message: err.message, code: (err as { code?: unknown }).code } }, 'uplink connection error'));
    client.on('close', () => this.lost(client, 'closed'));
    client.on('disconnect', (p) => this.lost(client, `broker disconnected (reason ${p.reasonCode ?? '?'})`));
    client.on('message', (topic, payload) => this.inbound(topic, payload));
    this.log.info({ url: this.cfg.url, protocol: link.protocol, receive_maximum: link.receiveMaximum ?? null, acked: this.outbox!.acked }, 'uplink online');
    client.subscribe([this.topics.boxCommand(), 'sb/v1/cap/#'], { qos: 1 }, (err, granted) => {
      if (err) return this.log.error({ err }, 'uplink subscribe failed');
      const refused = (granted ?? []).filter((g) => g.qos >= 0x80).map((g) => g.topic);
      if (refused.length) this.log.error({ topics: refused }, 'the township broker refused the uplink\'s subscriptions: check its ACL');
    });
    this.linkUpAt = performance.now();
    this.outbox!.linkUp(link.receiveMaximum);
    this.sendStatus();
    this.notify(true);
    this.pump();
    this.pumpRollups();
  }

  /** The link died (closed, timed out, refused): in flight waits again, reconnect after a backoff. */
  private lost(client: MqttClient, why: string): void {
    if (!this.link || this.link.client !== client) return;
    this.link = null;
    this.counts.linkLosses++;
    this.offlineSince = this.ctx.clock.wall();
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end(true);
    this.outbox?.linkDown();
    this.persistCursor(true);
    const delay = this.retryDelay();
    this.log.warn({ why, retry_in_ms: delay }, 'uplink offline');
    this.notify(true);
    this.scheduleConnect(delay);
  }

  private schedulePump(): void {
    if (this.pumpDue) return;
    this.pumpDue = true;
    afterCommands(() => {
      this.pumpDue = false;
      for (const seq of this.urgentSeqs.splice(0)) this.urgent(seq);
      this.pump();
    });
  }

  private urgent(seq: number): void {
    const o = this.outbox;
    if (!o) return;
    try {
      const e = this.store.since(seq - 1, 1)[0];
      if (e && e.seq === seq) o.urgent(e);
    } catch (err) {
      this.log.warn({ err, seq }, 'urgent event could not be read back; the backlog carries it');
    }
  }

  /** Publishes what the outbox hands out until the window is full or nothing is ready. */
  private pump(): void {
    const o = this.outbox;
    const link = this.link;
    if (!o || !link || !this.running) return;
    const durable = this.store.durableSeq();
    o.setDurable(durable);
    const now = performance.now();
    for (;;) {
      const from = o.wantsPage(Math.max(PAGE / 2, this.cfg.window * 2));
      if (from !== null) {
        let page: StoredEvent[];
        try {
          page = this.store.since(from, PAGE);
        } catch (err) {
          this.log.warn({ err }, 'uplink cannot read the log now; retrying');
          break;
        }
        o.addPage(page, page.length < PAGE, durable);
      }
      const s = o.next(now);
      if (!s) break;
      this.publish(link, s);
      if (this.link !== link) return; // the publish found the link dead
    }
    this.waitForDurable();
  }

  /**
   * Events written but not yet on disk: the store's onDurable brings the next pump (normally
   * within a millisecond); without it (or as a backstop) look again shortly, 1 ms doubling to
   * 500 ms while the disk is slow.
   */
  private waitForDurable(): void {
    const durable = this.store.durableSeq();
    this.waitingDurable = this.link !== null && this.store.lastSeq() > durable;
    if (!this.waitingDurable) {
      this.durableWaitMs = 1;
      return;
    }
    if (this.store.onDurable) return; // the tick is the backstop
    if (this.durableTimer) return;
    this.durableTimer = setTimeout(() => {
      this.durableTimer = null;
      const moved = this.store.durableSeq() > durable;
      this.durableWaitMs = moved ? 1 : Math.min(500, this.durableWaitMs * 2);
      this.pump();
    }, this.durableWaitMs);
    this.durableTimer.unref();
  }

  private publish(link: Link, s: Send<StoredEvent>): void {
    const o = this.outbox!;
    let topic: string;
    let payload: string | Buffer;
    let opts: { qos: 0 | 1; retain: boolean; properties?: { messageExpiryInterval: number } };
    if (s.kind === 'event') {
      const e = s.event;
      const live = e.boot === this.ctx.clock.boot && this.ctx.clock.mono() - e.atMono <= this.t.liveWithinMs;
      topic = this.topics.event();
      payload = JSON.stringify(eventWire(e, this.site, this.ctx.config.site.utcOffset, live));
      opts = { qos: 1, retain: false };
    } else {
      topic = s.msg.topic;
      payload = s.msg.payload;
      opts = { qos: s.msg.qos, retain: s.msg.retain };
      let expiry = s.msg.expirySeconds;
      if (s.msg.expiresAt !== undefined) {
        // Counted now, not when it was queued: it may have waited out an outage.
        expiry = Math.floor((s.msg.expiresAt - this.ctx.clock.wall()) / 1000);
        if (expiry < 1) {
          this.log.info({ topic, expires_at: wallTime(s.msg.expiresAt, this.ctx.config.site.utcOffset) }, 'side message expired while waiting: dropped');
          if (s.msg.qos === 1) o.ackSide(s.id);
          return;
        }
      }
      if (expiry !== undefined && link.protocol === 5) opts.properties = { messageExpiryInterval: Math.max(1, Math.round(expiry)) };
    }
    link.client.publish(topic, payload, opts, (err) => {
      if (this.link !== link) return; // an answer from a link already given up
      if (s.kind === 'side') {
        this.rollups.done(s.id);
        if (!err) o.ackSide(s.id);
        else {
          o.refuseSide(s.id);
          this.log.error({ topic, err: { message: err.message, code: (err as { code?: unknown }).code } }, 'the township broker refused a message (check its ACL); dropped');
        }
        this.schedulePump();
        return;
      }
      if (err) return this.refused(link, s.event.seq, err);
      // The link works: the next outage starts its backoff at the first step again. (Not at
      // CONNACK: a broker whose ACL refuses every event would then be retried every second.)
      this.attempt = 0;
      if (o.ackEvent(s.event.seq)) this.persistCursor(false);
      this.schedulePump();
    });
  }

  /**
   * A PUBACK with a reason code ≥ 0x80 (Mosquitto: 0x87 not authorized, when its ACL refuses
   * the topic) is no acknowledgement: the event stays above the cursor, and the link is
   * dropped and tried again with backoff, loudly — the township's ACL is wrong, not the box.
   */
  private refused(link: Link, seq: number, err: Error): void {
    this.counts.refusedEvents++;
    this.outbox!.refuseEvent(seq);
    const code = (err as { code?: unknown }).code;
    this.log.error({ seq, reason_code: code, topic: this.topics.event(), err: { message: err.message } }, `the township broker refused event ${seq} (PUBACK reason ${String(code)}): its ACL must let this box publish under ${this.topics.root}/#; the event is kept and retried`);
    this.lost(link.client, `event refused (reason ${String(code)})`);
  }

  private tick(): void {
    const o = this.outbox;
    const link = this.link;
    // Up and quiet for a while (nothing to send, so no PUBACK to prove it): the link is good.
    if (link && performance.now() - this.linkUpAt > STABLE_MS) this.attempt = 0;
    if (o && link) {
      const oldest = o.oldestInflightAt();
      if (oldest !== null && performance.now() - oldest > this.t.pubackDeadlineMs) {
        this.counts.pubackTimeouts++;
        this.lost(link.client, `no PUBACK within ${this.t.pubackDeadlineMs} ms`);
      }
    }
    this.persistCursor(false);
    // Events appended without a `logged` on the bus (the store's own) are found here.
    if (this.link) this.pump();
    const now = performance.now();
    if (now - this.lastNotifyAt >= this.t.statusEveryMs) {
      this.lastNotifyAt = now;
      this.notify(false);
    }
  }
  private lastNotifyAt = 0;
  private linkUpAt = 0;

  /** Writes the cursor if it moved, at most every cursorEveryMs unless `now`; pruning follows it. */
  private persistCursor(now: boolean): void {
    const o = this.outbox;
    if (!o || o.acked === this.persisted) return;
    const t = performance.now();
    if (!now && t - this.lastPersistAt < this.t.cursorEveryMs) return;
    if (!this.store.setMetaNumber(CURSOR_KEY, o.acked)) return; // the log refuses now: next time
    this.lastPersistAt = t;
    this.persisted = o.acked;
    this.store.setRetainAfterSeq(this.persisted);
  }

  private notify(force: boolean): void {
    const s = this.state();
    const key = `${s.online}|${s.events_waiting}|${s.last_ack_seq}`;
    if (!force && key === this.lastStateKey) return;
    this.lastStateKey = key;
    for (const fn of this.statusListeners) {
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'uplink state listener failed');
      }
    }
  }

  /** The box's status, retained on the township's status topic (ahead of the backlog). */
  private sendStatus(): void {
    const o = this.outbox;
    if (!o) return;
    const s = this.lastBoxStatus;
    const body = { ...(s ?? { state: 'online' }), state: s?.state ?? 'online', boot: this.ctx.clock.boot, at: this.now() };
    o.addSide({ topic: this.topics.status(), payload: JSON.stringify(body), retain: true, qos: 1, key: 'status' }, 0, true);
    this.schedulePump();
  }

  private inbound(topic: string, payload: Buffer): void {
    inbound({ ctx: this.ctx, log: this.log, by: this.by, commandTopic: this.topics.boxCommand(), counts: this.counts }, topic, payload);
  }

  /** A command's outcome for the township, on `cmd/box/result` (ahead of the backlog, after live events). */
  private commandResult(r: CommandResult): void {
    if (r.via !== 'uplink' || !this.outbox) return;
    const body: Record<string, unknown> = { command_id: r.commandId, ok: r.ok };
    if (r.error !== undefined) body.error = r.error;
    this.outbox.addSide({ topic: this.topics.commandResult(), payload: JSON.stringify(body), retain: false, qos: 1 }, 0, true);
    this.schedulePump();
  }
}

/**
 * Jittered exponential backoff ("equal jitter"): half of min(firstMs·2ⁿ, maxMs) plus a random
 * share of the other half. Hundreds of boxes that lost the township at the same moment (its
 * broker restarted) do not all come back in the same second, and none waits less than half.
 */
export function jitteredDelay(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const d = backoffDelay(attempt, p);
  return Math.round(d / 2 + random() * (d / 2));
}
