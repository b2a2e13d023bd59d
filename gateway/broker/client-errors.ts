/**
 * One log line per dropped client. Aedes emits `clientError` once for the error that ends a
 * connection and then once more for every delivery that was waiting on the socket: a
 * subscriber cut off by `drainTimeout` with 256 messages in flight (the broker's concurrency)
 * logged 257 lines, and its disconnect line as well. This keeps the first error of each client
 * and counts the rest; the caller logs once, with the count.
 */
import type { Client } from 'aedes';

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
