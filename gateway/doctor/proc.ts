/**
 * Who holds what, read from Linux's /proc: which processes have a file (the log, a serial port)
 * open, which one listens on a TCP port, and what a process is. The doctor uses it to tell the
 * running box from anything else, so it never steals the box's serial port and can say whether
 * a taken port is the box's own. Processes it may not look into (not root) are counted, so a
 * "nobody holds it" is never claimed where it could not be seen.
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

export interface Holder {
  pid: number;
  /**
   * For a pseudo-terminal (/dev/pts/N): this process also holds its master side (/dev/ptmx with
   * tty-index N), so it is the pty's other end — socat bridging a serial server, a simulator —
   * not a second master on the line.
   */
  ptyPeer?: boolean;
  /** The process's argv, joined with spaces (from /proc/PID/cmdline). */
  command: string;
  /** Whether it is a running Shaobing box (`shaobing start` or `demo`). */
  box: boolean;
}

export interface Holders {
  /** Target → the processes holding it (not this process). */
  byTarget: Map<string, Holder[]>;
  /** Processes whose descriptors could not be read (permissions): a target may be held there unseen. */
  unreadable: number;
}

export function commandOf(pid: number, proc = '/proc'): string {
  try {
    return readFileSync(join(proc, String(pid), 'cmdline'), 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/**
 * A Shaobing box process: its argv runs the `shaobing` command (bin/shaobing.mjs, an installed
 * `shaobing`, or the compiled cli) with `start` or `demo`. `shaobing doctor` itself is not one.
 */
export function isBoxCommand(argv: readonly string[]): boolean {
  const i = argv.findIndex((a) => /(^|\/)shaobing(\.mjs)?$/.test(a) || /gateway\/cli\.(js|ts)$/.test(a));
  return i >= 0 && (argv[i + 1] === 'start' || argv[i + 1] === 'demo');
}

function holder(pid: number, proc: string): Holder {
  let argv: string[] = [];
  try {
    argv = readFileSync(join(proc, String(pid), 'cmdline'), 'utf8').split('\0').filter(Boolean);
  } catch {
    /* gone meanwhile */
  }
  return { pid, command: argv.join(' '), box: isBoxCommand(argv) };
}

/** The canonical path of a file (a symlink such as /dev/serial/by-id/… resolved), or the path itself. */
export function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Scans every process's open descriptors once for `targets`: file paths (compared canonically)
 * or `socket:[inode]` strings (listeners' sockets, see listeningInodes).
 */
export function holdersOf(targets: readonly string[], proc = '/proc', self = process.pid): Holders {
  const wanted = new Map(targets.map((t) => [t.startsWith('socket:') ? t : canonical(t), t]));
  const byTarget = new Map<string, Holder[]>(targets.map((t) => [t, []]));
  let unreadable = 0;
  let pids: string[] = [];
  try {
    pids = readdirSync(proc).filter((d) => /^\d+$/.test(d));
  } catch {
    return { byTarget, unreadable: 1 };
  }
  for (const p of pids) {
    const pid = Number(p);
    if (pid === self) continue;
    let fds: string[];
    try {
      fds = readdirSync(join(proc, p, 'fd'));
    } catch {
      unreadable++;
      continue;
    }
    const seen = new Set<string>();
    const masters = new Set<number>();
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(join(proc, p, 'fd', fd));
      } catch {
        continue;
      }
      if (link === '/dev/ptmx') {
        const index = ptyIndex(proc, p, fd);
        if (index !== null) masters.add(index);
        continue;
      }
      const t = wanted.get(link);
      if (t === undefined || seen.has(t)) continue;
      seen.add(t);
      byTarget.get(t)!.push({ ...holder(pid, proc), link } as Holder & { link: string });
    }
    // Now that all of this process's descriptors are known: is it the master side of a pty it holds?
    if (masters.size) {
      for (const hs of byTarget.values()) {
        for (const h of hs as (Holder & { link?: string })[]) {
          const m = h.pid === pid && h.link ? /^\/dev\/pts\/(\d+)$/.exec(h.link) : null;
          if (m && masters.has(Number(m[1]))) h.ptyPeer = true;
        }
      }
    }
    for (const hs of byTarget.values()) for (const h of hs as (Holder & { link?: string })[]) delete h.link;
  }
  return { byTarget, unreadable };
}

/** The pty index of a /dev/ptmx descriptor (`tty-index` in /proc/PID/fdinfo/FD, Linux 4.11+), or null. */
function ptyIndex(proc: string, pid: string, fd: string): number | null {
  try {
    const m = /^tty-index:\s+(\d+)/m.exec(readFileSync(join(proc, pid, 'fdinfo', fd), 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The socket inodes listening on TCP `port` (any address, IPv4 and IPv6), from /proc/net/tcp
 * and tcp6: `socket:[inode]` strings for holdersOf.
 */
export function listeningInodes(port: number, proc = '/proc'): string[] {
  const out: string[] = [];
  for (const f of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(join(proc, 'net', f), 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      // sl local_address rem_address st … inode (the 10th column); 0A = LISTEN.
      if (cols.length < 10 || cols[3] !== '0A') continue;
      const localPort = parseInt(cols[1]!.split(':').pop()!, 16);
      if (localPort === port && cols[9] !== '0') out.push(`socket:[${cols[9]}]`);
    }
  }
  return out;
}

/** `write_bytes` and the start time of a process (/proc/PID/io, /proc/PID/stat), or null if they cannot be read. */
export function processIo(pid: number, proc = '/proc'): { writeBytes: number; uptimeS: number } | null {
  try {
    const io = readFileSync(join(proc, String(pid), 'io'), 'utf8');
    const writeBytes = Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1]);
    // Field 22 of /proc/PID/stat is the start time in clock ticks after boot; the command (field
    // 2) may hold spaces and parentheses, so count from the last ')'.
    const stat = readFileSync(join(proc, String(pid), 'stat'), 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    const bootUptime = Number(readFileSync(join(proc, 'uptime'), 'utf8').split(' ')[0]);
    // USER_HZ is 100 on every Linux the box runs (arm64, armhf, x86-64).
    const uptimeS = bootUptime - startTicks / 100;
    if (!Number.isFinite(writeBytes) || !Number.isFinite(uptimeS)) return null;
    return { writeBytes, uptimeS };
  } catch {
    return null;
  }
}
