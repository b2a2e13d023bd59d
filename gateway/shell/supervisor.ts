/**
 * Starts modules in order, each guarded: a module whose start fails is logged and retried
 * with backoff (1 s doubling to 60 s) while the others run. One broken feature never takes
 * the box down. Stops in reverse order, each stop bounded by a deadline.
 */
import type { Logger } from 'pino';
import type { Module } from './module.ts';
import { backoff, withDeadline, type Backoff } from './timing.ts';

const STOP_DEADLINE_MS = 5000;
const START_RETRY = { firstMs: 1000, maxMs: 60_000 };

export class Supervisor {
  private readonly started = new Set<Module>();
  private readonly retries = new Map<Module, NodeJS.Timeout>();
  private stopping = false;

  constructor(private readonly modules: Module[], private readonly log: Logger) {}

  async start(): Promise<void> {
    for (const m of this.modules) await this.startOne(m, backoff(START_RETRY));
  }

  isStarted(name: string): boolean {
    return [...this.started].some((m) => m.name === name);
  }

  private async startOne(m: Module, retry: Backoff): Promise<void> {
    if (this.stopping) return;
    try {
      await m.start();
      this.started.add(m);
      this.log.info({ module: m.name }, 'module started');
    } catch (err) {
      const backoffMs = retry.next();
      this.log.error({ err, module: m.name, retry_in_ms: backoffMs }, 'module failed to start; retrying');
      await m.stop().catch(() => undefined);
      const t = setTimeout(() => {
        this.retries.delete(m);
        void this.startOne(m, retry);
      }, backoffMs);
      t.unref();
      this.retries.set(m, t);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.retries.values()) clearTimeout(t);
    for (const m of [...this.modules].reverse()) {
      if (!this.started.has(m)) continue;
      const stopped = m.stop().catch((err) => this.log.error({ err, module: m.name }, 'module stop failed'));
      await withDeadline(stopped, STOP_DEADLINE_MS, () => this.log.error({ module: m.name }, 'module did not stop in time'));
      this.started.delete(m);
    }
  }
}
