/**
 * A box killed with SIGKILL in the middle of draining its backlog to the township, and started
 * again on the same log: it resumes from the persisted cursor (not from the start), and the
 * township has every event once after dedupe by seq.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Mosquitto } from '../helpers/mosquitto.ts';
import { passwordFile, startTownship, subscribe, type Subscriber } from '../helpers/township.ts';
import { until } from '../helpers/until.ts';

const CHILD = fileURLToPath(new URL('../helpers/uplink-box-child.ts', import.meta.url));
const running = new Set<ChildProcess>();
let mosq: Mosquitto | null = null;
let town: Subscriber | null = null;
afterEach(() => {
  for (const c of running) c.kill('SIGKILL');
  running.clear();
});
afterAll(async () => {
  await town?.stop();
  await mosq?.stop();
});

class Child {
  private buf = '';
  private waiters: ((l: string) => boolean)[] = [];
  constructor(readonly proc: ChildProcess) {
    proc.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const i = this.waiters.findIndex((w) => w(line));
        if (i >= 0) this.waiters.splice(i, 1);
      }
    });
  }
  static async start(db: string, url: string, pw: string): Promise<Child> {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, db, url, pw], { stdio: ['pipe', 'pipe', 'inherit'] });
    running.add(proc);
    const c = new Child(proc);
    await c.wait('ready');
    return c;
  }
  wait(prefix: string): Promise<string> {
    return new Promise((resolve) => this.waiters.push((l) => l.startsWith(prefix) && (resolve(l.slice(prefix.length)), true)));
  }
  ask(cmd: string, prefix: string): Promise<string> {
    const p = this.wait(prefix);
    this.proc.stdin!.write(`${cmd}\n`);
    return p;
  }
  async kill9(): Promise<void> {
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
  }
}

describe('uplink across kill -9', () => {
  it('resumes from the persisted cursor and loses nothing', async () => {
    mosq = await startTownship();
    town = await subscribe(mosq.url);
    const db = join(mkdtempSync(join(tmpdir(), 'sb-uplink-kill9-')), 'box.db');
    const pw = passwordFile();
    const first = await Child.start(db, mosq.url, pw);
    await first.ask('burst 20000', 'ok ');
    await until('mid-drain', () => town!.bySeq.size > 3000, 30_000, 1);
    await first.kill9();
    const receivedBefore = town.raw.length;
    // The broker saw the connection die: the box's last will is the retained status now.
    await until('last will', () => JSON.parse(town!.other.get('sb/v1/itest/status') ?? '{}').reason === 'connection_lost');
    expect(JSON.parse(town.other.get('sb/v1/itest/status')!)).toEqual({ state: 'offline', reason: 'connection_lost' });
    const cursor = (new Database(db, { readonly: true }).prepare("SELECT value FROM meta WHERE key = 'uplink_acked'").get() as { value: number } | undefined)?.value ?? 0;
    expect(cursor).toBeGreaterThan(0);
    expect(cursor).toBeLessThan(25_000);
    const second = await Child.start(db, mosq.url, pw);
    const all = new Database(db, { readonly: true }).prepare('SELECT seq FROM events ORDER BY seq').all().map((r) => (r as { seq: number }).seq);
    await until('every event at the township', () => all.every((s) => town!.bySeq.has(s)), 60_000).catch(async (err) => {
      const missing = all.filter((s) => !town!.bySeq.has(s));
      throw new Error(`${(err as Error).message}: ${missing.length} missing, first ${missing.slice(0, 5).join(',')}; log ${all.length} (${all[0]}..${all.at(-1)}), town ${town!.bySeq.size}; cursor ${cursor}; second run: ${await second.ask('state', 'state ')}`);
    });
    // The second run started from its cursor: nothing at or below it was sent again (what it
    // resent above it is what the first run had sent but not yet persisted as acknowledged).
    const second_ = town.raw.slice(receivedBefore);
    expect(second_.filter((e) => e.seq <= cursor)).toEqual([]);
    expect(second_[0]!.seq).toBeGreaterThan(cursor);
    const state = JSON.parse(await second.ask('state', 'state ')) as { last_ack_seq: number };
    expect(state.last_ack_seq).toBeGreaterThan(cursor);
  }, 120_000);
});
