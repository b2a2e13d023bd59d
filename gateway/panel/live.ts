/**
 * GET /api/live: Server-Sent Events to every signed-in page.
 * - `event: logged` for each event written to the log (bus `logged`), in the uplink's wire
 *   form (uplink/event-wire.ts) with `id: <seq>`;
 * - `event: state` with the whole of GET /api/state after anything that may change it (a
 *   logged event, an actuator report, the box's status), built once for all connections, at
 *   most one every STATE_MS: right after the step's siren commands are written (afterCommands)
 *   when none was sent in the last STATE_MS, else when that STATE_MS is over. (It used to wait
 *   STATE_MS after every first change: the bench `panel` measured logged → shown by the page
 *   p50 116 ms with a 200 ms probe; the alarm is what the officer must see first.)
 * - a comment line every HEARTBEAT_MS, so proxies and phones keep the connection and a dead
 *   one is found;
 * - the stream ends when its session ends (sign-out, expiry, replaced) or the box stops.
 *
 * The alarm path never waits on it: the bus listener only queues (the events are serialised
 * in the next turn, once for everyone), and a client that does not read (its socket buffer
 * above MAX_BUFFERED) is dropped rather than buffered without bound (peer lesson 9).
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { afterCommands } from '../shell/after-commands.ts';
import type { LoggedEvent } from '../shell/bus.ts';
import { eventWire } from '../uplink/event-wire.ts';
import type { BoxContext } from './state-types.ts';

export const STATE_MS = 100;
export const HEARTBEAT_MS = 15_000;
const MAX_BUFFERED = 1 << 20;

interface Client {
  res: ServerResponse;
  token: string;
  username: string;
}

export class LiveFeed {
  private readonly clients = new Set<Client>();
  private queued: LoggedEvent[] = [];
  private flushing = false;
  private stateTimer: NodeJS.Timeout | null = null;
  /** A state is on its way (timer or afterCommands): changes meanwhile are in it. */
  private stateDue = false;
  /** performance.now() when the last state was begun. */
  private lastState = Number.NEGATIVE_INFINITY;
  private heartbeat: NodeJS.Timeout | null = null;
  private offs: (() => void)[] = [];

  constructor(private readonly ctx: BoxContext, private readonly state: () => Promise<Record<string, unknown>>, private readonly log: Logger) {}

  get size(): number {
    return this.clients.size;
  }

  start(): void {
    const { bus } = this.ctx;
    this.offs.push(
      bus.on('logged', (e) => {
        // No page open: nothing is kept (the queue would otherwise grow with the log).
        if (!this.clients.size) return;
        this.queued.push(e);
        if (!this.flushing) {
          this.flushing = true;
          setImmediate(() => this.flush());
        }
        this.stateSoon();
      }),
      bus.on('actuatorReport', () => this.stateSoon()),
      bus.on('status', () => this.stateSoon()),
    );
    this.heartbeat = setInterval(() => this.send(': heartbeat\n\n'), HEARTBEAT_MS);
  }

  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.heartbeat = this.stateTimer = null;
    this.stateDue = false;
    for (const c of [...this.clients]) this.drop(c);
  }

  /** Takes over `res` (a hijacked reply) for the session `token`; the first `state` follows at once. */
  async add(res: ServerResponse, token: string, username: string): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 3000\n\n');
    const c: Client = { res, token, username };
    this.clients.add(c);
    res.on('close', () => this.clients.delete(c));
    const body = await this.state();
    this.write(c, `event: state\ndata: ${JSON.stringify(body)}\n\n`);
  }

  /** Something the pages show changed without an event or report (broadcast-watch.ts): send the state soon. */
  refresh(): void {
    this.stateSoon();
  }

  /** Ends the streams of a session that ended. */
  endSession(token: string): void {
    for (const c of [...this.clients]) if (c.token === token) this.drop(c);
  }

  private stateSoon(): void {
    if (this.stateDue || !this.clients.size) return;
    this.stateDue = true;
    const go = (): void => {
      this.stateTimer = null;
      this.stateDue = false;
      if (!this.clients.size) return;
      this.lastState = performance.now();
      this.state().then(
        (body) => this.send(`event: state\ndata: ${JSON.stringify(body)}\n\n`),
        (err: unknown) => this.log.error({ err }, 'live state could not be built'),
      );
    };
    const wait = this.lastState + STATE_MS - performance.now();
    // Never in the step itself: a siren command goes out first.
    if (wait <= 0) afterCommands(go);
    else this.stateTimer = setTimeout(go, wait);
  }

  private flush(): void {
    this.flushing = false;
    const events = this.queued;
    this.queued = [];
    if (!this.clients.size) return;
    const { id, utcOffset } = this.ctx.config.site;
    let text = '';
    for (const e of events) {
      const wire = eventWire({ seq: e.seq, type: e.type as never, atWall: e.atWall, atMono: 0, boot: this.ctx.clock.boot, clockTrusted: this.ctx.clock.trusted(), payload: e.payload }, id, utcOffset, true);
      text += `event: logged\nid: ${e.seq}\ndata: ${JSON.stringify(wire)}\n\n`;
    }
    this.send(text);
  }

  private send(text: string): void {
    for (const c of this.clients) this.write(c, text);
  }

  private write(c: Client, text: string): void {
    if (c.res.writableEnded || c.res.destroyed) return void this.clients.delete(c);
    if (c.res.writableLength > MAX_BUFFERED) {
      this.log.warn({ by: c.username }, 'live stream dropped: the client does not read');
      return this.drop(c);
    }
    c.res.write(text);
  }

  private drop(c: Client): void {
    this.clients.delete(c);
    if (!c.res.writableEnded) c.res.end();
  }
}
