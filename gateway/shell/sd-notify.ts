/**
 * Talking to systemd (sd_notify(3)) when the box runs as the `shaobing` service (Type=notify,
 * WatchdogSec=; hardware/systemd/shaobing.service): READY=1 once every module has started,
 * WATCHDOG=1 while the box is healthy (watchdog.ts), STOPPING=1 when it stops, STATUS= lines
 * for `systemctl status`.
 *
 * How the datagram is sent, and why so: Node has no AF_UNIX datagram sockets (`dgram` is UDP
 * only; `net` is stream only, and systemd's socket is SOCK_DGRAM). The choices were
 *  - spawning `systemd-notify` for each message: it needs NotifyAccess=all, forks a process
 *    every ping on a Pi, and systemd 252 (bookworm, Raspberry Pi OS) drops a message whose
 *    sender has already exited before systemd reads its cgroup — a READY or a ping lost now
 *    and then is a box restarted for nothing;
 *  - a helper process reading a pipe (socat, python): again NotifyAccess=all, and one more
 *    process whose death or survival must be watched;
 *  - the npm package sd-notify: a node-gyp addon too, linking libsystemd (libsystemd-dev to
 *    build it on the Pi), a new dependency for one sendto();
 *  - a tiny addon of our own (sd-notify.c, N-API, under 100 lines): the message leaves the box's own
 *    PID, so the default NotifyAccess=main accepts it with no race, and nothing is forked.
 *    The box already ships native modules (better-sqlite3, serialport), so building one more
 *    for the Pi's architecture costs nothing new; N-API keeps it valid across Node versions.
 * The addon is the one used. A box started by systemd without it (a broken install) logs a
 * FATAL line and keeps running: systemd then restarts it after TimeoutStartSec, which is
 * better than a box that refuses to sound sirens at all.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon: built by scripts/build-native.mjs into dist/native/, reached from sources and from dist/ alike. */
export const ADDON_PATH = fileURLToPath(new URL(import.meta.url.endsWith('.js') ? '../../native/sd-notify.node' : '../../dist/native/sd-notify.node', import.meta.url));

export type SdNotifyErrorCode = 'addon_missing' | 'bad_socket';

export class SdNotifyError extends Error {
  constructor(
    readonly code: SdNotifyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SdNotifyError';
  }
}

interface Addon {
  send(socket: string, message: string): number;
}

export interface Notifier {
  /** $NOTIFY_SOCKET: a path, or `@name` (abstract namespace). */
  readonly socket: string;
  /** Sends one notification (`NAME=value` lines). Returns 0, or the errno of the send (EAGAIN: systemd is busy; the next ping tries again). */
  send(message: string): number;
}

export function loadAddon(path = ADDON_PATH): Addon {
  try {
    return createRequire(import.meta.url)(path) as Addon;
  } catch (err) {
    throw new SdNotifyError('addon_missing', `the sd_notify addon could not be loaded from ${path} (build it with npm run build:native; in the package it is part of the install)`, { cause: err });
  }
}

/** A notifier on `socket`; throws SdNotifyError when the addon is missing or the socket's name is not one systemd gives. */
export function notifier(socket: string, addonPath?: string): Notifier {
  if (!/^[/@]/.test(socket) || Buffer.byteLength(socket) > 108) throw new SdNotifyError('bad_socket', `NOTIFY_SOCKET must be an absolute path or @name of at most 108 bytes, not ${JSON.stringify(socket)}`);
  const addon = loadAddon(addonPath);
  return { socket, send: (message) => addon.send(socket, message) };
}

export interface SystemdEnv {
  /** Where to notify; null when not started by systemd with Type=notify. */
  socket: string | null;
  /** The watchdog timeout (WatchdogSec=) in ms; null when systemd has none for this process. */
  watchdogMs: number | null;
}

/**
 * Reads what systemd set (sd_watchdog_enabled(3): WATCHDOG_USEC, for this process only if
 * WATCHDOG_PID is unset or ours) and removes it from the environment, as sd_notify's
 * unset_environment does: a child the box runs (aplay, espeak-ng) must not inherit the socket
 * and speak to systemd in the box's name.
 */
export function takeSystemdEnv(env: NodeJS.ProcessEnv = process.env, pid = process.pid): SystemdEnv {
  const socket = env.NOTIFY_SOCKET || null;
  const usec = Number(env.WATCHDOG_USEC);
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
  const watchdogMs = Number.isFinite(usec) && usec > 0 && forUs ? usec / 1000 : null;
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  return { socket, watchdogMs };
}
