/**
 * Signals stop the box cleanly (issue 15): `shaobing start` in its own process gets SIGHUP (a
 * closed terminal, `kill -HUP`), SIGTERM (systemd) or SIGINT (Ctrl-C) and ends the same way —
 * exit code 0, a `stop` event in the log naming the signal, the `stopped` line. Before, SIGHUP
 * took Node's default and killed the process at once: no `stop` event, exit by signal.
 * A second signal while stopping is logged and ignored.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { FAST } from '../helpers/box-site.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';

const BIN = fileURLToPath(new URL('../../bin/shaobing.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sb-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function site(name: string): Promise<{ config: string; db: string }> {
  const db = join(dir, `${name}.db`);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    `site: { id: sig, name: 信号村 }
sensors:
  - { id: rg1, kind: rain }
actuators:
  - { id: siren1, kind: siren, zones: [site] }
mqtt:
  host: 127.0.0.1
  port: 0
  ws_port: 0
  accounts:
    - { username: rg1, role: device, secret_hash: '${await hashSecret('pw-rg1-secret', FAST)}' }
store: { path: '${db}' }
`,
  );
  return { config, db };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: Record<string, unknown>[];
}

/**
 * Starts the box, sends the first of `signals` once it has started and each next one once the
 * box logs `stopping` (two signals pending at once are delivered lowest number first, not in
 * the order sent), waits for the exit.
 */
function runAndSignal(config: string, signals: NodeJS.Signals[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'start', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    let sent = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (!sent && line.msg === 'effective config') {
          sent = true;
          child.kill(signals[0]!);
        }
        if (line.msg === 'stopping') for (const s of signals.slice(1)) child.kill(s);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, lines });
    });
  });
}

function stopEvents(db: string): { reason: unknown }[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn
      .prepare(`SELECT payload FROM events WHERE type = 'stop' ORDER BY seq`)
      .all()
      .map((r) => JSON.parse((r as { payload: string }).payload) as { reason: unknown });
  } finally {
    conn.close();
  }
}

describe('stop signals', () => {
  it.each(['SIGHUP', 'SIGTERM', 'SIGINT'] as const)('%s stops the box cleanly: exit 0, a stop event naming it', async (sig) => {
    const { config, db } = await site(sig.toLowerCase());
    const run = await runAndSignal(config, [sig]);
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });
    expect(run.lines.find((l) => l.msg === 'stopping')).toMatchObject({ signal: sig });
    expect(run.lines.at(-1)).toMatchObject({ msg: 'stopped', signal: sig });
    expect(stopEvents(db)).toEqual([expect.objectContaining({ reason: sig })]);
  }, 90_000);

  it('a second signal while stopping is logged and ignored; the stop still completes', async () => {
    const { config, db } = await site('twice');
    const run = await runAndSignal(config, ['SIGTERM', 'SIGHUP']);
    expect(run.code).toBe(0);
    expect(run.lines.find((l) => l.msg === 'signal ignored: already stopping')).toMatchObject({ signal: 'SIGHUP', stopping_on: 'SIGTERM' });
    // The second signal may land before or after the stop's last line: the stop is quick.
    expect(run.lines.find((l) => l.msg === 'stopped')).toMatchObject({ signal: 'SIGTERM' });
    expect(stopEvents(db)).toEqual([expect.objectContaining({ reason: 'SIGTERM' })]);
  }, 90_000);
});
