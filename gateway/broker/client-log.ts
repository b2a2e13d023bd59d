/**
 * What the broker logs about its clients: connects, disconnects, keepalive timeouts, and one
 * line per dropped client. Aedes emits `clientError` once for the error that ends a
 * connection and then once more for every delivery that was waiting on the socket: a
 * subscriber cut off by `drainTimeout` with 256 messages in flight (the broker's concurrency)
 * logged 257 lines, and its disconnect line as well. ClientErrors keeps the first error of
 * each client and counts the rest; the client is logged once, with the count.
 */
import type { Aedes, Client } from 'aedes';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Principal } from './acl.ts';

/** The client's address (over WebSocket: the HTTP request's socket). */
export function remoteOf(client: Client): string {
  const req = client.req as IncomingMessage | undefined;
  const addr = req?.socket?.remoteAddress ?? (client.conn as Socket).remoteAddress;
  return addr ?? 'unknown';
}

/**
 * Logs aedes' client events on `log`; `principalOf` names the account of a client, `droppedOf`
 * counts the QoS 0 deliveries dropped for it (client-output.ts), logged when it goes.
 */
export function logClients(aedes: Aedes, log: Logger, principalOf: (c: Client) => Principal | undefined, droppedOf: (c: Client) => number): void {
  aedes.on('clientReady', (client) => {
    const p = principalOf(client);
    log.info({ client: client.id, username: p?.username, role: p?.role, remote: remoteOf(client) }, 'client connected');
  });
  const errors = new ClientErrors((client, { err, failedDeliveries }) => {
    const slow = /drain timeout|queue limit|output limit/i.test(err.message);
    const fields = { client: client.id, username: principalOf(client)?.username, err, failed_deliveries: failedDeliveries, dropped_deliveries: droppedOf(client) };
    log[slow ? 'warn' : 'debug'](fields, slow ? 'slow client disconnected' : 'client disconnected on error');
  });
  aedes.on('clientDisconnect', (client) => {
    if (errors.dropped(client)) return;
    const dropped = droppedOf(client);
    log.info({ client: client.id, username: principalOf(client)?.username, ...(dropped > 0 && { dropped_deliveries: dropped }) }, 'client disconnected');
  });
  aedes.on('keepaliveTimeout', (client) => {
    log.info({ client: client.id, username: principalOf(client)?.username }, 'client keepalive timed out');
  });
  aedes.on('clientError', (client, err) => errors.error(client, err));
  aedes.on('connectionError', (client, err) => {
    log.debug({ remote: remoteOf(client), err }, 'connection error before CONNECT');
  });
  // Aedes emits 'error' for persistence failures; unhandled, an EventEmitter would throw.
  (aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) => log.error({ err }, 'aedes error'));
}

export interface ClientDrop {
  /** The error that ended the connection (the first aedes reported). */
  err: Error;
  /** Deliveries to the client that failed behind it. */
  failedDeliveries: number;
}

export class ClientErrors {
  private readonly drops = new WeakMap<Client, ClientDrop>();

  constructor(private readonly report: (client: Client, drop: ClientDrop) => void) {}

  /** Call on every `clientError`. */
  error(client: Client, err: Error): void {
    const known = this.drops.get(client);
    if (known) {
      known.failedDeliveries++;
      return;
    }
    const drop = { err, failedDeliveries: 0 };
    this.drops.set(client, drop);
    // Aedes fails the writes waiting for a drain in setImmediate callbacks it queues before
    // destroying the socket (lib/client.js _handleDrainTimeout), and the error reaches us on
    // the next tick after that: an immediate queued now runs behind them all.
    setImmediate(() => this.report(client, drop));
  }

  /** Whether the client's disconnect is told by its error line instead. */
  dropped(client: Client): boolean {
    return this.drops.has(client);
  }
}
