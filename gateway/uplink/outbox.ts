/**
 * The uplink's core: what to publish next, what is in flight, and how far the township has
 * everything. Pure: no I/O, no clock of its own (the shell passes `now`), no timers. The shell
 * (uplink.ts) reads pages of the event log into it, publishes what `next()` hands out and tells
 * it of PUBACKs and of the link going down.
 *
 * Three lanes share one window of QoS 1 messages in flight (MQTT 5 Receive Maximum caps it):
 * - **live**: urgent events (red/orange alerts raised or escalated, fire) as they are logged,
 *   ahead of everything, once durable (the township never holds an event the box could lose);
 * - **backlog**: every event with seq above the cursor, in seq order, read from the log a page
 *   at a time (never the whole backlog in memory). An event the live lane already carried is
 *   not sent again by the backlog (in this run: after a restart the backlog resends it, which
 *   the township's dedupe by (site, seq) absorbs);
 * - **side**: the other producers' messages (alert state, CAP, rollups). One goes out only once
 *   every event logged before it was queued has been sent: the township reads the events that
 *   explain a state before the state.
 *
 * The cursor (`acked`) moves only on PUBACK and only contiguously over the log's own order (seq
 * gaps are the log's, not losses): every event at or below it is at the township.
 */

/** What the outbox needs of an event: its seq (the rest is the shell's). */
export interface Seqd {
  seq: number;
}

import type { SideMessage } from './side-message.ts';
export type { SideMessage };

export type Send<E extends Seqd> =
  | { kind: 'event'; lane: 'live' | 'backlog'; event: E }
  | { kind: 'side'; id: number; msg: SideMessage };

export interface OutboxOptions {
  /** The persisted cursor at start. */
  acked: number;
  /** QoS 1 messages in flight at most. */
  window: number;
  /** Side messages waiting at most; past it the oldest without a key is dropped (counted). */
  sideLimit?: number;
  /** Urgent events waiting for the live lane at most; past it they wait in the backlog only (counted). */
  liveLimit?: number;
}

export const DEFAULT_SIDE_LIMIT = 5000;
export const DEFAULT_LIVE_LIMIT = 1000;

type ItemState = 'waiting' | 'inflight' | 'acked' | 'live';
interface Item<E> {
  event: E;
  state: ItemState;
  sentAt: number;
}
interface Side {
  id: number;
  msg: SideMessage;
  /** Sent only once the backlog has sent every event up to this seq. */
  afterSeq: number;
  sentAt: number;
  first: boolean;
}

export class Outbox<E extends Seqd> {
  /** Every event with seq ≤ acked is at the township (contiguously acknowledged). */
  acked: number;
  private durable = 0;
  private online = false;
  private window: number;
  private readonly configuredWindow: number;
  /** Events read from the log, seq order, from the first not yet acknowledged; `start` is its head. */
  private order: Item<E>[] = [];
  private start = 0;
  /** Index of the first `waiting` item at or after which to look (everything before is not waiting). */
  private scan = 0;
  private readonly bySeq = new Map<number, Item<E>>();
  private waitingCount = 0;
  /** The highest seq the backlog has read (or knows the log holds nothing more up to). */
  private readTo: number;
  /** Urgent events for the live lane, seq order. */
  private live: E[] = [];
  private readonly liveSeqs = new Set<number>();
  private readonly liveInflight = new Map<number, { event: E; sentAt: number }>();
  /** Acknowledged through the live lane, above `readTo`: the backlog skips them. */
  private readonly liveAcked = new Set<number>();
  private side: Side[] = [];
  private sideFirst: Side[] = [];
  private readonly sideInflight = new Map<number, Side>();
  private nextSideId = 1;
  private readonly sideLimit: number;
  private readonly liveLimit: number;
  /** Counters for the status and the log. */
  readonly counts = { sideDropped: 0, sideReplaced: 0, sideRefused: 0, liveOverflow: 0 };

  constructor(o: OutboxOptions) {
    this.acked = o.acked;
    this.readTo = o.acked;
    this.configuredWindow = Math.max(1, o.window);
    this.window = this.configuredWindow;
    this.sideLimit = o.sideLimit ?? DEFAULT_SIDE_LIMIT;
    this.liveLimit = o.liveLimit ?? DEFAULT_LIVE_LIMIT;
  }

  /** The log is on disk up to `seq`. */
  setDurable(seq: number): void {
    if (seq > this.durable) this.durable = seq;
  }

  /** The link is up; `receiveMaximum` is the broker's (MQTT 5 CONNACK), if it gave one. */
  linkUp(receiveMaximum?: number): void {
    this.online = true;
    this.window = Math.max(1, Math.min(this.configuredWindow, receiveMaximum ?? Number.POSITIVE_INFINITY));
  }

  /**
   * The link is gone: nothing in flight counts any more. Its events wait again (backlog in
   * place, live at the head of the live lane), its side messages go back to the front of the
   * side queue unless a newer one of the same key replaced them meanwhile.
   */
  linkDown(): void {
    this.online = false;
    for (let i = this.start; i < this.order.length; i++) {
      const it = this.order[i]!;
      if (it.state === 'inflight') {
        it.state = 'waiting';
        this.waitingCount++;
      }
    }
    this.scan = this.start;
    this.backlogInflight = 0;
    const back = [...this.liveInflight.values()].map((x) => x.event);
    this.liveInflight.clear();
    for (const e of back) this.insertLive(e, true);
    for (const first of [false, true]) {
      const q = first ? this.sideFirst : this.side;
      const newer = (k: string): boolean => this.side.some((w) => w.msg.key === k) || this.sideFirst.some((w) => w.msg.key === k);
      const back = [...this.sideInflight.values()].filter((s) => s.first === first && !(s.msg.key !== undefined && newer(s.msg.key)));
      q.unshift(...back.sort((a, b) => a.id - b.id));
    }
    this.sideInflight.clear();
  }

  isOnline(): boolean {
    return this.online;
  }

  /**
   * Where the shell should read the next page of the log from (`since(readFrom, limit)`), or
   * null when enough is waiting or everything durable has been read.
   */
  wantsPage(low: number): number | null {
    if (this.readTo >= this.durable) return null;
    if (this.waitingCount >= low) return null;
    return this.readTo;
  }

  /**
   * A page of the log read from `wantsPage()`'s seq (ascending). Events above `durableAtRead`
   * are left for a later page. `exhausted`: the log held nothing more at read time (fewer rows
   * than asked for), so the backlog knows everything up to `durableAtRead` was read.
   */
  addPage(events: readonly E[], exhausted: boolean, durableAtRead: number): void {
    let stoppedAtDurable = false;
    for (const e of events) {
      if (e.seq <= this.readTo) continue;
      if (e.seq > durableAtRead) {
        stoppedAtDurable = true;
        break;
      }
      this.readTo = e.seq;
      let state: ItemState = 'waiting';
      if (this.liveAcked.delete(e.seq)) state = 'acked';
      else if (this.liveSeqs.has(e.seq) || this.liveInflight.has(e.seq)) state = 'live';
      const it: Item<E> = { event: e, state, sentAt: 0 };
      this.order.push(it);
      this.bySeq.set(e.seq, it);
      if (state === 'waiting') this.waitingCount++;
    }
    if ((exhausted || stoppedAtDurable) && durableAtRead > this.readTo) this.readTo = durableAtRead;
    // liveAcked entries the backlog has passed can never be matched: forget them.
    for (const s of this.liveAcked) if (s <= this.readTo) this.liveAcked.delete(s);
    this.advance();
  }

  /** An urgent event was logged: it goes in the live lane, unless the township has it or it is on its way. */
  urgent(e: E): void {
    if (e.seq <= this.acked || this.liveSeqs.has(e.seq) || this.liveInflight.has(e.seq) || this.liveAcked.has(e.seq)) return;
    const it = this.bySeq.get(e.seq);
    if (it && it.state !== 'waiting') return;
    if (this.live.length >= this.liveLimit) {
      this.counts.liveOverflow++;
      return;
    }
    if (it) {
      it.state = 'live';
      this.waitingCount--;
    }
    this.insertLive(e, false);
  }

  private insertLive(e: E, front: boolean): void {
    this.liveSeqs.add(e.seq);
    // Nearly always appended (seqs arrive in order); a resend after a link loss goes back in place.
    let i = this.live.length;
    if (front || (i > 0 && this.live[i - 1]!.seq > e.seq)) while (i > 0 && this.live[i - 1]!.seq > e.seq) i--;
    this.live.splice(i, 0, e);
  }

  /**
   * Queues a side message after the events logged so far (`lastSeq`). Returns its id. `first`:
   * the box's own replies (command results, its status) go right after the live lane, ahead of
   * the backlog, since a township waiting for an answer should not wait for days of catch-up;
   * so do urgent producers' messages (the retained state of a red or orange alert or a fire).
   * A keyed message replaces a waiting one of the same key in either queue: a yellow state
   * queued after the backlog must not overwrite, days later, the red state sent at once.
   */
  addSide(msg: SideMessage, lastSeq: number, first = false): number {
    const q = first ? this.sideFirst : this.side;
    if (msg.key !== undefined) {
      for (const w of [this.side, this.sideFirst]) {
        const i = w.findIndex((s) => s.msg.key === msg.key);
        if (i >= 0) {
          w.splice(i, 1);
          this.counts.sideReplaced++;
        }
      }
    }
    const id = this.nextSideId++;
    q.push({ id, msg, afterSeq: first ? 0 : lastSeq, sentAt: 0, first });
    if (q.length > this.sideLimit) {
      const j = q.findIndex((s) => s.msg.key === undefined);
      q.splice(j >= 0 ? j : 0, 1);
      this.counts.sideDropped++;
    }
    return id;
  }

  /** QoS 1 messages in flight (side messages at QoS 0 are never in flight). */
  inflight(): number {
    return this.liveInflight.size + this.sideInflight.size + this.backlogInflight;
  }

  private backlogInflight = 0;

  /**
   * Slots of the window the backlog and the producers' messages leave free: an urgent event
   * (or a reply) goes out at once, without waiting for a PUBACK of the backlog. An eighth of the
   * window, at least one when the window has room for two.
   */
  private reserve(): number {
    return this.window < 2 ? 0 : Math.max(1, Math.floor(this.window / 8));
  }

  /** The next message to publish now, marked in flight; null when offline, the window is full or nothing is ready. */
  next(now: number): Send<E> | null {
    const inflight = this.inflight();
    if (!this.online || inflight >= this.window) return null;
    const head = this.live[0];
    if (head && head.seq <= this.durable) {
      this.live.shift();
      this.liveSeqs.delete(head.seq);
      this.liveInflight.set(head.seq, { event: head, sentAt: now });
      return { kind: 'event', lane: 'live', event: head };
    }
    const f = this.sideFirst.shift();
    if (f) return this.sendSide(f, now);
    if (inflight >= this.window - this.reserve()) return null;
    if (this.waitingCount > 0) {
      for (let i = Math.max(this.scan, this.start); i < this.order.length; i++) {
        const it = this.order[i]!;
        if (it.state !== 'waiting') continue;
        it.state = 'inflight';
        it.sentAt = now;
        this.waitingCount--;
        this.backlogInflight++;
        this.scan = i + 1;
        return { kind: 'event', lane: 'backlog', event: it.event };
      }
    }
    const s = this.side[0];
    if (s && s.afterSeq <= this.sentTo()) {
      this.side.shift();
      return this.sendSide(s, now);
    }
    return null;
  }

  private sendSide(s: Side, now: number): Send<E> {
    if (s.msg.qos === 1) {
      s.sentAt = now;
      this.sideInflight.set(s.id, s);
    }
    return { kind: 'side', id: s.id, msg: s.msg };
  }

  /** Every event up to this seq has been sent (or acknowledged) by the backlog (next() serves waiting events first, so none is). */
  private sentTo(): number {
    return this.readTo;
  }

  /** PUBACK for an event. Returns true if the cursor moved. */
  ackEvent(seq: number): boolean {
    const live = this.liveInflight.get(seq);
    const it = this.bySeq.get(seq);
    if (live) {
      this.liveInflight.delete(seq);
      if (it) it.state = 'acked';
      else if (seq > this.readTo) this.liveAcked.add(seq);
    } else if (it && it.state === 'inflight') {
      it.state = 'acked';
      this.backlogInflight--;
    } else {
      return false; // not in flight (a late answer from a dead link): nothing to do
    }
    return this.advance();
  }

  /** PUBACK for a side message (QoS 1). */
  ackSide(id: number): void {
    this.sideInflight.delete(id);
  }

  /**
   * The broker refused an event (PUBACK reason ≥ 0x80): it is not acknowledged and waits
   * again; the shell backs off before the link tries again.
   */
  refuseEvent(seq: number): void {
    const live = this.liveInflight.get(seq);
    if (live) {
      this.liveInflight.delete(seq);
      this.insertLive(live.event, true);
      return;
    }
    const it = this.bySeq.get(seq);
    if (it && it.state === 'inflight') {
      it.state = 'waiting';
      this.waitingCount++;
      this.backlogInflight--;
      this.scan = this.start;
    }
  }

  /** The broker refused a side message: dropped and counted (it is a copy of state the events carry). */
  refuseSide(id: number): void {
    if (this.sideInflight.delete(id)) this.counts.sideRefused++;
  }

  /** The oldest send still waiting for its PUBACK (`now` units), or null. */
  oldestInflightAt(): number | null {
    let oldest = Number.POSITIVE_INFINITY;
    for (const x of this.liveInflight.values()) oldest = Math.min(oldest, x.sentAt);
    for (const x of this.sideInflight.values()) oldest = Math.min(oldest, x.sentAt);
    if (this.backlogInflight > 0) {
      for (let i = this.start; i < this.order.length; i++) {
        const it = this.order[i]!;
        if (it.state === 'inflight') {
          oldest = Math.min(oldest, it.sentAt);
          break; // sent in order: the first in flight is the oldest of the backlog's
        }
      }
    }
    return Number.isFinite(oldest) ? oldest : null;
  }

  /** The first event not yet acknowledged that the backlog has read, if any. */
  firstUnacked(): E | null {
    return this.order[this.start]?.event ?? this.live[0] ?? null;
  }

  /** Side messages waiting (not in flight). */
  sideWaiting(): number {
    return this.side.length + this.sideFirst.length;
  }

  /** Moves the cursor over acknowledged events at the head of the log's order. */
  private advance(): boolean {
    const before = this.acked;
    while (this.start < this.order.length && this.order[this.start]!.state === 'acked') {
      const it = this.order[this.start++]!;
      this.bySeq.delete(it.event.seq);
      this.acked = it.event.seq;
    }
    if (this.start === this.order.length && this.readTo > this.acked && this.waitingCount === 0) {
      // Everything read is acknowledged and the log held nothing more up to readTo.
      this.acked = this.readTo;
    }
    if (this.start > 1024 || (this.start > 0 && this.start === this.order.length)) {
      this.order = this.order.slice(this.start);
      this.scan = Math.max(0, this.scan - this.start);
      this.start = 0;
    }
    return this.acked !== before;
  }
}
