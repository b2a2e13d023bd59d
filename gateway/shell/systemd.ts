/**
 * The box as a systemd service (run.ts): READY=1 once `startBox` returned, the watchdog while
 * it runs, STOPPING=1 when it stops. Without NOTIFY_SOCKET (a terminal, the tests, the demo)
 * none of it exists.
 */
import type { Logger } from 'pino';
import { notifier as makeNotifier, type Notifier, type SystemdEnv } from './sd-notify.ts';
import { Watchdog, type WatchdogSources } from './watchdog.ts';
import type { WatchdogLimits } from './watchdog-gate.ts';

export interface SystemdLink {
  notifier: Notifier;
  /** Null when the unit has no WatchdogSec=. */
  watchdog: Watchdog | null;
  /** The stop began: STOPPING=1, and no more pings (the stop has TimeoutStopSec, not the watchdog). */
  stopping(): void;
}

export interface LinkOptions {
  env: SystemdEnv;
  sources: WatchdogSources;
  mono: () => number;
  log: Logger;
  /** What `systemctl status` shows once ready. */
  status: string;
  addonPath?: string;
  limits?: Partial<WatchdogLimits>;
}

/** Says READY=1 and starts the watchdog; null when not under systemd, or when the addon is missing (said at FATAL). */
export function linkSystemd(o: LinkOptions): SystemdLink | null {
  if (!o.env.socket) return null;
  let notifier: Notifier;
  try {
    notifier = makeNotifier(o.env.socket, o.addonPath);
  } catch (err) {
    o.log.fatal({ err }, 'cannot notify systemd: the box runs, but systemd will take it for not started and restart it after TimeoutStartSec; reinstall the shaobing package');
    return null;
  }
  const errno = notifier.send(`READY=1\nSTATUS=${o.status}`);
  if (errno !== 0) o.log.error({ errno, socket: o.env.socket }, 'READY=1 could not be sent to systemd');
  else o.log.info({ socket: o.env.socket }, 'told systemd the box is ready');
  const watchdog = o.env.watchdogMs === null ? null : new Watchdog({ notifier, timeoutMs: o.env.watchdogMs, sources: o.sources, log: o.log, mono: o.mono, limits: o.limits, status: o.status });
  watchdog?.start();
  return {
    notifier,
    watchdog,
    stopping() {
      watchdog?.stop();
      notifier.send('STOPPING=1\nSTATUS=stopping');
    },
  };
}
