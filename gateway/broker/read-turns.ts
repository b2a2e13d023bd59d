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
 */
import type { Client } from 'aedes';
import type { Readable } from 'node:stream';
import type { ByteBucket } from './input-budget.ts';

/** About 40 readings of ~100 bytes: well under a millisecond of the box's work. */
export const TURN_BYTES = 4096;

interface Parser {
  parse(buf: Buffer): unknown;
  on(event: 'packet', listener: () => void): unknown;
}

/**
 * Call from preConnect (the CONNECT itself is parsed already). `bucketOf` gives the account's
 * input budget once the client is authenticated (input-budget.ts), null before; a client over
 * its budget is not read until the budget allows, and then read again by itself.
 */
export function takeInputInTurns(client: Client, bucketOf: () => ByteBucket | null = () => null, turnBytes = TURN_BYTES): void {
  const c = client as Client & { _parser?: Parser; conn: Readable };
  const parser = c._parser;
  const conn = c.conn;
  if (!parser || typeof parser.parse !== 'function' || typeof conn?.read !== 'function') return;
  const read = conn.read.bind(conn);
  const parse = parser.parse.bind(parser);
  let rest: Buffer | null = null;
  const take = (buf: Buffer): Buffer => {
    if (buf.length <= turnBytes) return buf;
    rest = buf.subarray(turnBytes);
    return buf.subarray(0, turnBytes);
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
      const buf = next();
      if (buf) bucket.spend(buf.length, now);
      return buf;
    }
    return next();
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
        chunk = next();
        if (chunk) bucketOf()?.spend(chunk.length, performance.now());
      }
    } finally {
      parsing = false;
    }
    return result;
  };
}
