/**
 * A real Mosquitto (Debian's `mosquitto`) standing in for the township broker: started by the
 * test on loopback ports, with a password file (mosquitto_passwd) and an ACL, optionally a TLS
 * listener (certificates from tls-ca.ts), and stopped, killed, paused or restarted on the same
 * ports so outages can be staged. Nothing listens beyond 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MosquittoAccount {
  username: string;
  password: string;
}

export interface MosquittoOptions {
  accounts: MosquittoAccount[];
  /** Lines of a Mosquitto ACL file (`user township`, `topic readwrite sb/v1/#`, `pattern …`). */
  acl: string[];
  /** Also a TLS listener: the server's certificate and key, the CA that signs client certificates, and whether one is required. */
  tls?: { caFile: string; certFile: string; keyFile: string; requireCertificate: boolean };
  /** Extra mosquitto.conf lines (e.g. `max_inflight_messages 10`). */
  extra?: string[];
}

export interface Mosquitto {
  port: number;
  /** The TLS listener's port, when `tls` was given. */
  tlsPort: number | null;
  url: string;
  dir: string;
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
  /** Kills it (SIGKILL): an outage with no goodbye. */
  kill(): Promise<void>;
  /** Starts it again on the same ports. */
  restart(): Promise<void>;
  /** SIGSTOP: the sockets stay open, nothing is answered (a hung broker). */
  pause(): void;
  resume(): void;
}

const BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
const PASSWD = '/usr/bin/mosquitto_passwd';

/** A port the kernel just handed out on 127.0.0.1 (free a moment later, for Mosquitto to take). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startMosquitto(o: MosquittoOptions): Promise<Mosquitto> {
  if (!BIN) throw new Error('mosquitto is not installed: apt-get install -y mosquitto (scripts/test-deps.sh installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'sb-mosq-'));
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '', { mode: 0o600 });
  for (const a of o.accounts) {
    const r = spawnSync(PASSWD, ['-b', passwd, a.username, a.password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed for ${a.username}: ${r.stderr || r.stdout}`);
  }
  const acl = join(dir, 'acl');
  writeFileSync(acl, `${o.acl.join('\n')}\n`);
  const port = await freePort();
  const tlsPort = o.tls ? await freePort() : null;
  const conf = [
    // Run as root (CI), Mosquitto would switch to user `mosquitto`, who cannot read this test's
    // 0700 temp folders; `user root` keeps it as the test's user. Ignored when not root.
    ...(process.getuid?.() === 0 ? ['user root'] : []),
    'per_listener_settings false',
    'allow_anonymous false',
    `password_file ${passwd}`,
    `acl_file ${acl}`,
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    `listener ${port} 127.0.0.1`,
  ];
  if (o.tls && tlsPort) {
    conf.push(`listener ${tlsPort} 127.0.0.1`, `cafile ${o.tls.caFile}`, `certfile ${o.tls.certFile}`, `keyfile ${o.tls.keyFile}`, `require_certificate ${o.tls.requireCertificate}`);
  }
  conf.push(...(o.extra ?? []));
  const confFile = join(dir, 'mosquitto.conf');
  writeFileSync(confFile, `${conf.join('\n')}\n`);

  let child: ChildProcess | null = null;
  let stderr = '';
  const launch = async (): Promise<void> => {
    stderr = '';
    const c = spawn(BIN, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child = c;
    const end = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`mosquitto exited with ${c.exitCode}: ${stderr}`);
      if ((await accepts(port)) && (tlsPort === null || (await accepts(tlsPort)))) return;
      if (Date.now() > end) throw new Error(`mosquitto did not listen on ${port} within 10 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGCONT');
    c.kill(signal);
    await exited;
  };
  await launch();
  return {
    port,
    tlsPort,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM');
      await launch();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
  };
}
