/**
 * systemd's end of the notification socket, without systemd (test/helpers/notify-listener.py,
 * /usr/bin/python3): every datagram the box sends, with the PID the kernel says sent it.
 *
 * `marker()` sends a datagram of the test's own into the same socket: the socket is a queue,
 * so once the marker is read back, everything sent before it has been read too. A test that
 * freezes the box reads what it sent until the freeze this way, instead of waiting and hoping.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAddon } from '../../gateway/shell/sd-notify.ts';
import { until } from './until.ts';

const SCRIPT = fileURLToPath(new URL('./notify-listener.py', import.meta.url));
const BUILD = fileURLToPath(new URL('../../scripts/build-native.mjs', import.meta.url));

/** Compiles the sd_notify addon into dist/native/ (npm run build:native; well under a second). */
export function buildAddon(): void {
  const r = spawnSync(process.execPath, [BUILD], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-native failed: ${r.stderr}`);
}

export interface Notification {
  pid: number | null;
  uid: number | null;
  msg: string;
}

export interface NotifyListener {
  /** NOTIFY_SOCKET for the sender. */
  socket: string;
  received: Notification[];
  /** Messages from `pid` containing `line` (e.g. 'WATCHDOG=1'). */
  count(pid: number, line: string): number;
  /** Sends a marker and resolves once it was read: everything sent before it is in `received`. */
  marker(): Promise<number>;
  close(): void;
}

/** `abstract`: listen on @name instead of a path. */
export async function notifyListener(abstract = false): Promise<NotifyListener> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-notify-'));
  const socket = abstract ? `@sb-notify-${randomBytes(6).toString('hex')}` : join(dir, 'notify.sock');
  const child: ChildProcess = spawn('/usr/bin/python3', [SCRIPT, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const received: Notification[] = [];
  let listening = false;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = JSON.parse(buf.slice(0, nl)) as Notification & { listening?: string };
      buf = buf.slice(nl + 1);
      if (line.listening) listening = true;
      else received.push(line);
    }
  });
  await until('the notify listener', () => listening || child.exitCode !== null, 30_000);
  if (!listening) throw new Error(`notify-listener.py exited (${child.exitCode})`);
  const addon = loadAddon();
  let markers = 0;
  return {
    socket,
    received,
    count: (pid, line) => received.filter((n) => n.pid === pid && n.msg.split('\n').includes(line)).length,
    async marker() {
      const text = `X_TEST_MARKER=${++markers}`;
      const errno = addon.send(socket, text);
      if (errno !== 0) throw new Error(`marker not sent: errno ${errno}`);
      await until(`marker ${markers}`, () => received.some((n) => n.msg === text), 30_000);
      return received.findIndex((n) => n.msg === text);
    },
    close() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
