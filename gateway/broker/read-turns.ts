/**
 * Each client's input is taken in turns of at most `TURN_BYTES`, so one busy connection cannot
 * hold the event loop while an alarm waits on another.
 *
 * Aedes reads a client's socket with `conn.read(null)`: everything buffered, up to the stream's
 * high-water mark and beyond (64 KiB and more: 650 readings of a flooding device), and parses it
 * in one go; every packet is checked, judged by the engine and logged before the next socket
 * is looked at. A probe reading on another connection waited behind all of that (e2e bench at
 * 24,000 readings/s over 200 connections, issue 15). Here the parser is handed the first
 * `TURN_BYTES` at a time: the connection's `read()` returns at most that and keeps the rest
 * here, first in line for its next `read()`, which aedes makes once the packets of this turn
 * are done — after the event loop has turned (their publishes complete on the next turn,
 * mq-schedule.ts), so the other sockets get their turn in between. A turn that completes no
 * packet (inside one larger than a turn) goes on at once with the next bytes, since no packet
 * would call aedes back to read again. The rest is kept here rather than put back with
 * `unshift`: a stream emits 'data' again for bytes read twice, and frame-guard.ts, which
 * watches 'data', would count them twice and close the connection.
 *
 * Turns per connection were not enough once the box was saturated (e2e bench, 48,000
 * readings/s over 200 connections: relay p99 846–943 ms). Every flooding socket still got its
 * 4 KiB in every turn of the event loop, so a turn did 200 × 4 KiB (~12,000 readings, a quarter
 * of a second) and a probe reading that arrived meanwhile waited for it. `InputTurns` tells
 * connections apart by what they sent lately (bytes, decaying with a time constant of 1 s):
 * a *light* one (under `lightBytes`, 2 KiB: a gauge, a smoke detector, the alarm's probe; a
 * sensor reading once a second sends ~100 bytes) is read at once, whatever else is going on;
 * a *heavy* one, or one with more waiting than its turn took, is read only by the scheduler, a
 * few turns per loop turn (`sliceBytes` or `sliceMs`, whichever comes first), round-robin. So a
 * reading on a light connection waits for at most one slice and the loop turn's own work,
 * however many sockets flood; what the heavy ones send waits in the kernel and TCP slows them
 * down, nothing is dropped. What light connections may cost together is bounded by their
 * number (connection-limits.ts) times `lightBytes` a second. A first version that served
 * connections with nothing left over at once but shared one budget among them put the probe
 * behind 200 flooding sockets that each had less than a turn waiting (e2e at 24,000/s: relay
 * p50 14.7 ms, p99 154 ms).
 */
import type { Client } from 'aedes';
import type { Readable } from 'node:stream';
import type { ByteBucket } from './input-budget.ts';

/** About 40 readings of ~100 bytes: well under a millisecond of the box's work. */
export const TURN_BYTES = 4096;

export interface SliceLimits {
  /** Bytes the scheduler hands to heavy connections per loop turn. */
  sliceBytes: number;
  /** The scheduler's slice ends once it has taken this long, bytes left or not. */
  sliceMs: number;
  /** At most this much of one connection's input per turn. */
  turnBytes: number;
  /** A connection that sent less than this lately (decaying over `decayMs`) is light: read at once. */
  lightBytes: number;
  decayMs: number;
}

/** A slice of about 250 readings, 4–6 ms of the box's work on this 2-core machine. */
export const DEFAULT_SLICE: SliceLimits = { sliceBytes: 16_384, sliceMs: 4, turnBytes: TURN_BYTES, lightBytes: 2048, decayMs: 1000 };

/** One connection as the scheduler sees it. */
export interface Turn {
  /** Had more waiting than its last turn took. */
  backlogged: boolean;
  queued: boolean;
  granted: boolean;
  /** Bytes taken lately, as of `at` (decaying). */
  recent: number;
  at: number;
  gone(): boolean;
  /** Makes aedes read now (a 'readable' it answers with `read()`). */
  kick(): void;
}

export function newTurn(gone: () => boolean, kick: () => void): Turn {
  return { backlogged: false, queued: false, granted: false, recent: 0, at: 0, gone, kick };
}

/** The broker's one input scheduler (see the file's header). `now` is a monotonic ms clock. */
export class InputTurns {
  private readonly queue: Turn[] = [];
  /** Bytes taken in the running slice. */
  private spent = 0;
  private scheduled = false;
  /** Slices run, and turns granted in them (stats and tests). */
  slices = 0;
  granted = 0;

  constructor(readonly limits: SliceLimits = DEFAULT_SLICE, private readonly now: () => number = () => performance.now()) {}

  /** Whether a connection may read now; if not, it is queued for a turn. */
  mayRead(t: Turn): boolean {
    if (t.granted || this.light(t)) return true;
    this.enqueue(t);
    return false;
  }

  /** `bytes` were handed to a connection's parser; `left` whether it has more waiting. */
  took(t: Turn, bytes: number, left: boolean): void {
    const now = this.now();
    t.recent = this.decayed(t, now) + bytes;
    t.at = now;
    t.backlogged = left;
    if (t.granted) this.spent += bytes;
  }

  /** Whether a connection in the middle of its turn may take its next bytes at once. */
  mayGoOn(t: Turn): boolean {
    return t.granted ? this.spent < this.limits.sliceBytes : this.light(t);
  }

  /** A connection stopped with bytes left (mayGoOn said no): it gets a turn later. */
  requeue(t: Turn): void {
    t.backlogged = true;
    this.enqueue(t);
  }

  /** Connections waiting for a turn. */
  get waiting(): number {
    return this.queue.length;
  }

  private light(t: Turn): boolean {
    return !t.backlogged && this.decayed(t, this.now()) < this.limits.lightBytes;
  }

  private decayed(t: Turn, now: number): number {
    return t.recent === 0 ? 0 : t.recent * Math.exp(-(now - t.at) / this.limits.decayMs);
  }

  private enqueue(t: Turn): void {
    if (t.queued) return;
    t.queued = true;
    this.queue.push(t);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.slice);
  }

  private readonly slice = (): void => {
    this.scheduled = false;
    this.slices++;
    const start = this.now();
    this.spent = 0;
    for (let t = this.queue.shift(); t; t = this.queue.shift()) {
      t.queued = false;
      if (t.gone()) continue;
      t.granted = true;
      this.granted++;
      try {
        t.kick();
      } finally {
        t.granted = false;
      }
      if (this.spent >= this.limits.sliceBytes || this.now() - start >= this.limits.sliceMs) break;
    }
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.slice);
    }
  };
}

interface Parser {
  parse(buf: Buffer): unknown;
  on(event: 'packet', listener: () => void): unknown;
}

/**
 * Call from preConnect (the CONNECT itself is parsed already). `bucketOf` gives the account's
 * input budget once the client is authenticated (input-budget.ts), null before; a client over
 * its budget is not read until the budget allows, and then read again by itself.
 */
export function takeInputInTurns(client: Client, turns: InputTurns, bucketOf: () => ByteBucket | null = () => null): void {
  const c = client as Client & { _parser?: Parser; conn: Readable };
  const parser = c._parser;
  const conn = c.conn;
  if (!parser || typeof parser.parse !== 'function' || typeof conn?.read !== 'function') return;
  const turnBytes = turns.limits.turnBytes;
  const read = conn.read.bind(conn);
  const parse = parser.parse.bind(parser);
  let rest: Buffer | null = null;
  const take = (buf: Buffer): Buffer => {
    if (buf.length <= turnBytes) return buf;
    rest = buf.subarray(turnBytes);
    return buf.subarray(0, turnBytes);
  };
  const turn = newTurn(
    () => conn.destroyed,
    () => void conn.emit('readable'),
  );
  /** Hands the parser its next bytes, and tells the scheduler what they cost and whether more wait. */
  const taken = (buf: Buffer | null): Buffer | null => {
    if (buf) turns.took(turn, buf.length, rest !== null || conn.readableLength > 0);
    else turn.backlogged = false;
    return buf;
  };
  // mqtt-packet's parser is not re-entrant: a packet handler that reads again from inside
  // `parse` (a packet whose handling completes synchronously lets aedes read the next batch)
  // would run the parser's state machine over its current packet twice. Reads made while
  // parsing get nothing and are remembered; the outer parse goes on with those bytes after.
  let parsing = false;
  let wanted = false;
  conn.read = ((size?: number): unknown => {
    if (size !== undefined && size !== null) return read(size);
    if (parsing) {
      wanted = true;
      return null;
    }
    const bucket = bucketOf();
    if (bucket) {
      const now = performance.now();
      const wait = bucket.waitMs(now);
      if (wait > 0) {
        // Nothing reads this socket meanwhile; 'readable' makes aedes ask again (its batch
        // count is at zero here, as it only reads when a batch is done).
        timer ??= setTimeout(() => {
          timer = null;
          if (!conn.destroyed) conn.emit('readable');
        }, wait);
        return null;
      }
      if (!turns.mayRead(turn)) return null;
      const buf = taken(next());
      if (buf) bucket.spend(buf.length, now);
      return buf;
    }
    if (!turns.mayRead(turn)) return null;
    return taken(next());
  }) as Readable['read'];
  let timer: NodeJS.Timeout | null = null;
  conn.once('close', () => {
    if (timer) clearTimeout(timer);
  });
  const next = (): Buffer | null => {
    if (rest) {
      const r: Buffer = rest;
      rest = null;
      return take(r);
    }
    const buf = read() as Buffer | null;
    return buf && Buffer.isBuffer(buf) ? take(buf) : null;
  };
  let packets = 0;
  parser.on('packet', () => void packets++);
  parser.parse = (buf: Buffer): unknown => {
    parsing = true;
    let result: unknown;
    try {
      for (let chunk: Buffer | null = buf; chunk; ) {
        wanted = false;
        const before = packets;
        result = parse(chunk);
        if (conn.destroyed) break;
        // Go on at once only if aedes asked for more meanwhile, or this turn completed no
        // packet (no completion would ask); otherwise aedes reads again when this turn is done.
        if (!wanted && (packets !== before || !rest)) break;
        // Packets handled at once (aedes asked meanwhile) would go on through the whole
        // backlog here: once the slice is spent (or a light connection is light no more), the
        // rest waits for a turn.
        if (!turns.mayGoOn(turn)) {
          turns.requeue(turn);
          break;
        }
        chunk = taken(next());
        if (chunk) bucketOf()?.spend(chunk.length, performance.now());
      }
    } finally {
      parsing = false;
    }
    return result;
  };
}
