/**
 * Features are modules with start()/stop(), wired in one place (main.ts) and sharing one
 * context object (zigbee2mqtt's controller/extension shape).
 */
import type { Logger } from 'pino';
import type { SiteConfig } from '../config/types.ts';
import type { Bus } from './bus.ts';
import type { Clock } from './clock.ts';

export interface Module {
  readonly name: string;
  /** Resolves when the module works; rejects (never hangs) when it cannot. */
  start(): Promise<void>;
  /** Releases everything; must resolve even if start failed half-way. */
  stop(): Promise<void>;
}

export interface BoxContext {
  config: SiteConfig;
  bus: Bus;
  /** The root logger; modules take `log.child({module})`. */
  log: Logger;
  clock: Clock;
}
