/**
 * The box under systemd's notify and watchdog protocol, without systemd (issue 19): a Python
 * listener plays systemd's notification socket (SO_PASSCRED: each datagram with its sender's
 * PID). The box says READY=1 once started and WATCHDOG=1 every quarter of WATCHDOG_USEC, from
 * its own PID; frozen (SIGSTOP) it sends nothing; thawed it first says why it is unhealthy (the
 * event loop was held), then pings again; SIGTERM says STOPPING=1.
 *
 * Then each health condition on a box in this process, with a watchdog of short limits: a log
 * write whose fdatasync never returns (the store's sync seam, not a broken SQLite), an engine
 * that stopped ticking, an event loop held past its limit — each stops the pings, and the
 * pings come back when the condition ends.
 *
 * No timing is asserted: "no ping while frozen" is read between two marker datagrams the test
 * sends into the same socket (a queue), so nothing the box sent can still be on its way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBox, type Box } from '../../gateway/box.ts';
import { notifier } from '../../gateway/shell/sd-notify.ts';
import { Watchdog } from '../../gateway/shell/watchdog.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';
import { boxSite, FAST } from '../helpers/box-site.ts';
import { gatedSync } from '../helpers/gated-sync.ts';
import { buildAddon, notifyListener, type NotifyListener } from '../helpers/notify-listener.ts';
import { until } from '../helpers/until.ts';

const BIN = fileURLToPath(new URL('../../bin/shaobing.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sb-watchdog-'));
const listeners: NotifyListener[] = [];
const children: ChildProcess[] = [];
beforeAll(() => buildAddon());
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const l of listeners) l.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The process state letter from /proc (T: stopped). */
const procState = (pid: number): string => /\) (\S) /.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '?';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const exitCode = (c: ChildProcess): Promise<number | null> => (c.exitCode !== null ? Promise.resolve(c.exitCode) : new Promise((r) => c.once('exit', r)));
const config = join(dir, 'site.yaml');
beforeAll(async () => {
  writeFileSync(
    config,
    `site: { id: wdog, name: 看门狗村 }
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
store: { path: '${join(dir, 'wdog.db')}' }
`,
  );
});

describe('shaobing start under the notify protocol', () => {
  it('READY=1 after start and STOPPING=1 at SIGTERM, from its own PID; a WATCHDOG_PID not its own means no pings', async () => {
    const l = await notifyListener();
    listeners.push(l);
    // WatchdogSec=2s: a check every 500 ms.
    const child = spawn(process.execPath, [BIN, 'start', '--config', config], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NOTIFY_SOCKET: l.socket, WATCHDOG_USEC: '2000000', WATCHDOG_PID: '' },
    });
    children.push(child);
    const lines: Record<string, unknown>[] = [];
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
    });
    const pid = child.pid!;
    await until('READY=1', () => l.count(pid, 'READY=1') === 1, 60_000);
    expect(l.received.find((n) => n.msg.includes('READY=1'))!.msg).toBe('READY=1\nSTATUS=running: site wdog, 1 sensors, 1 actuators');
    expect(l.received.every((n) => n.pid === pid)).toBe(true);
    // An empty WATCHDOG_PID names no process of ours: no pings at all, however long it runs.
    await l.marker();
    expect(l.count(pid, 'WATCHDOG=1')).toBe(0);
    expect(lines.some((x) => x.msg === 'systemd watchdog on')).toBe(false);
    child.kill('SIGTERM');
    await until('STOPPING=1', () => l.count(pid, 'STOPPING=1') === 1, 30_000);
    expect(await exitCode(child)).toBe(0);
  });

  it('pings while healthy, stops while frozen (SIGSTOP), says the loop was held after SIGCONT, then pings again', async () => {
    const l = await notifyListener();
    listeners.push(l);
    const child = spawn(process.execPath, [BIN, 'start', '--config', config], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NOTIFY_SOCKET: l.socket, WATCHDOG_USEC: '2000000' },
    });
    children.push(child);
    const pid = child.pid!;
    await until('READY=1', () => l.count(pid, 'READY=1') === 1, 60_000);
    await until('three pings', () => l.count(pid, 'WATCHDOG=1') >= 3, 20_000);
    expect(l.received.every((n) => n.pid === pid || n.msg.startsWith('X_TEST_MARKER'))).toBe(true);

    child.kill('SIGSTOP');
    await until('the box stopped', () => procState(pid) === 'T', 10_000);
    const frozenFrom = await l.marker();
    await sleep(3000); // six check intervals
    const frozenTo = await l.marker();
    expect(l.received.slice(frozenFrom + 1, frozenTo)).toEqual([]);

    child.kill('SIGCONT');
    await until('a ping after SIGCONT', () => l.received.slice(frozenTo).some((n) => n.pid === pid && n.msg.split('\n').includes('WATCHDOG=1')), 60_000);
    const after = l.received.slice(frozenTo + 1).filter((n) => n.pid === pid);
    // The first check after the thaw found its timer seconds late: unhealthy, no ping, and said so.
    expect(after[0]!.msg).toMatch(/^STATUS=unhealthy, not pinging the watchdog: event loop held \d+ ms/);
    expect(after[0]!.msg).not.toContain('WATCHDOG=1');
    const healthyAgain = after.find((n) => n.msg.includes('WATCHDOG=1'))!;
    expect(healthyAgain.msg).toBe('WATCHDOG=1\nSTATUS=running: site wdog, 1 sensors, 1 actuators');

    child.kill('SIGTERM');
    await until('STOPPING=1', () => l.count(pid, 'STOPPING=1') === 1, 30_000);
    expect(await exitCode(child)).toBe(0);
  });
});

describe('what stops the pings (a box in this process)', () => {
  const log = pino({ level: 'silent' });
  let box: Box | null = null;
  afterAll(async () => {
    await box?.stop();
  });

  async function rig(): Promise<{ box: Box; l: NotifyListener; wd: Watchdog; sync: ReturnType<typeof gatedSync> }> {
    const sync = gatedSync();
    sync.open();
    const b = await startBox({ config: await boxSite(join(dir, `in-${Date.now()}.db`)), log, tcpPort: 0, wsPort: 0, storeOptions: { syncFn: sync.fn } });
    box = b;
    const l = await notifyListener();
    listeners.push(l);
    const wd = new Watchdog({
      notifier: notifier(l.socket),
      timeoutMs: 10_000, // checks are called by the test
      sources: { storeStallMs: () => b.store.syncStallMs(), lastTickAt: () => b.engine.lastTickAt() },
      log,
      mono: () => b.ctx.clock.mono(),
      limits: { maxLoopLagMs: 400, maxStoreStallMs: 300, maxTickAgeMs: 3000 },
    });
    return { box: b, l, wd, sync };
  }

  it('a log write whose fdatasync never returns stops the pings; they resume when the disk answers', async () => {
    const { box: b, l, wd, sync } = await rig();
    expect(wd.check().problems).toEqual([]);
    sync.hold();
    b.store.append('note', { text: 'written, its fdatasync hangs' });
    await until('the sync waiting', () => sync.waiting === 1);
    await until('the stall past its limit', () => b.store.syncStallMs() > 300);
    const stuck = wd.check();
    expect(stuck.problems).toEqual(['store']);
    expect(stuck.sample.storeStallMs).toBeGreaterThan(300);
    sync.open();
    await until('the sync answered', () => b.store.syncStallMs() === 0);
    expect(wd.check().problems).toEqual([]);
    await l.marker();
    const msgs = l.received.map((n) => n.msg);
    expect(msgs[0]).toBe('WATCHDOG=1');
    expect(msgs[1]).toMatch(/^STATUS=unhealthy, not pinging the watchdog: a log write waiting for the disk \d+ s$/);
    expect(msgs[2]).toBe('WATCHDOG=1\nSTATUS=running');
    expect(wd.pings).toBe(2);
    await b.stop();
    box = null;
  });

  it('a degraded store (the disk refused a write) keeps pinging: the box still acts, and a restart would lose held events', async () => {
    const { box: b, wd, sync } = await rig();
    sync.hold();
    b.store.append('note', { text: 'its fdatasync fails' });
    await until('the sync waiting', () => sync.waiting === 1);
    sync.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await until('degraded', () => b.store.health().degraded);
    expect(wd.check().problems).toEqual([]);
    await b.stop();
    box = null;
  });

  it('an engine that stopped ticking stops the pings', async () => {
    const { box: b, wd } = await rig();
    expect(wd.check().problems).toEqual([]);
    await b.engine.stop();
    expect(wd.check().problems).toEqual(['engine']);
    expect(wd.verdicts.at(-1)!.sample.tickAgeMs).toBeNull();
    await b.stop();
    box = null;
  });

  it('an engine whose last tick is older than the limit stops the pings', async () => {
    const { box: b, l } = await rig();
    let frozenTick: number | null = null;
    const wd = new Watchdog({
      notifier: notifier(l.socket),
      timeoutMs: 10_000,
      // The engine's own tick time, held at one moment: a tick timer that no longer fires.
      sources: { storeStallMs: () => 0, lastTickAt: () => (frozenTick ??= b.engine.lastTickAt()) },
      log,
      mono: () => b.ctx.clock.mono(),
      limits: { maxTickAgeMs: 1500 },
    });
    await until('the frozen tick older than the limit', () => wd.check().problems.includes('engine'), 30_000);
    expect(wd.verdicts.at(-1)!.sample.tickAgeMs).toBeGreaterThan(1500);
    await b.stop();
    box = null;
  });

  it('an event loop held past the limit withholds the next ping', async () => {
    const { box: b, wd } = await rig();
    wd.start(); // the histogram runs while started
    wd.check();
    const until_ = performance.now() + 700;
    while (performance.now() < until_); // the loop held for 700 ms
    await sleep(100); // the histogram's timer records the delay when the loop runs again
    const v = wd.check();
    expect(v.problems).toEqual(['event_loop']);
    expect(v.sample.loopLagMs).toBeGreaterThan(400);
    expect(wd.check().problems).toEqual([]);
    wd.stop();
    await b.stop();
    box = null;
  });
});
