/**
 * The example township subscriber (examples/township-subscriber) as a township runs it: two
 * instances of the script in one shared-subscription group on a real Mosquitto (password file,
 * ACL per site tree), sharing one SQLite dedupe store, while a plain mqtt.js publisher plays two
 * boxes: events in seq order with resends, a `seq_skipped` event announcing a gap, and (box b) a
 * seq that never comes. Together the two saw every (site, seq) once; the announced gap is
 * reported as announced, the missing seq as missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';

const SCRIPT = fileURLToPath(new URL('../../examples/township-subscriber/subscriber.ts', import.meta.url));
let mosq: Mosquitto;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-township-sub-'));
  mosq = await startMosquitto({
    accounts: [
      { username: 'township', password: 'tw-secret' },
      { username: 'a', password: 'pa' },
      { username: 'b', password: 'pb' },
    ],
    // The README's ACL ("The township's broker"): each box writes only its own tree and reads its
    // commands; the township reads every tree and writes commands.
    acl: [
      ...['event', 'status', 'alert/#', 'cap', 'rollup', 'cmd/box/result'].map((t) => `pattern write sb/v1/%u/${t}`),
      'pattern read sb/v1/%u/cmd/box',
      'pattern read sb/v1/cap/#',
      'user township',
      'topic read sb/v1/+/#',
      'topic write sb/v1/+/cmd/box',
    ],
  });
  writeFileSync(join(dir, 'township.pw'), 'tw-secret\n', { mode: 0o600 });
}, 30_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await mosq?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Instance {
  lines: Record<string, any>[];
  stderr: () => string;
  exited: Promise<number | null>;
  child: ChildProcess;
}

function subscriber(extra: string[] = []): Instance {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, '--url', mosq.url, '--username', 'township', '--password-file', join(dir, 'township.pw'), '--group', 'township', '--store', join(dir, 'seen.db'), '--json', '--print-events', '--report-s', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: Record<string, any>[] = [];
  let buf = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { lines, stderr: () => err, exited, child };
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function event(site: string, seq: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ site, seq, boot: 'boot-1', at: new Date().toISOString().slice(0, 19) + 'Z', clock_trusted: true, type: 'transition', live: true, ...extra });
}

describe('examples/township-subscriber', () => {
  it('two instances in one group saw every (site, seq) once, with the announced gap and the missing seq reported', async () => {
    const [x, y] = [subscriber(), subscriber()];
    await until('both subscribed', () => [x, y].every((i) => i.lines.some((l) => l.kind === 'ready')));

    // Box a: 1–30, seqs 31–34 handed out by a run that died (announced by seq 35's storage event), 35–50.
    // Box b: 1–40 but for seq 17, which never comes.
    const plan: [string, number, string][] = [];
    for (let s = 1; s <= 50; s++) if (s < 31 || s > 34) plan.push(['a', s, s === 35 ? event('a', 35, { type: 'storage', what: 'seq_skipped', from: 31, to: 34, why: 'the previous run did not stop cleanly' }) : event('a', s)]);
    for (let s = 1; s <= 40; s++) if (s !== 17) plan.push(['b', s, event('b', s, s % 7 === 0 ? { type: 'effect', effect_type: 'siren' } : {})]);
    const boxes = { a: await mqtt.connectAsync(mosq.url, { username: 'a', password: 'pa', protocolVersion: 5 }), b: await mqtt.connectAsync(mosq.url, { username: 'b', password: 'pb', protocolVersion: 5 }) };
    // Interleave the two boxes; resend some (a box resends what was in flight when its link dropped).
    const resent = new Set(['a:5', 'a:6', 'a:7', 'a:20', 'a:35', 'b:1', 'b:16', 'b:18', 'b:40']);
    for (const [site, seq, payload] of plan) {
      const box = boxes[site as 'a' | 'b'];
      await box.publishAsync(`sb/v1/${site}/event`, payload, { qos: 1 });
      if (resent.has(`${site}:${seq}`)) await box.publishAsync(`sb/v1/${site}/event`, payload, { qos: 1 });
    }
    // A box cannot publish into another site's tree (the ACL drops it).
    await expect(boxes.a.publishAsync('sb/v1/b/event', event('b', 17), { qos: 1 })).rejects.toThrow(/Not authorized/);
    // Nor command itself (only the township does).
    await expect(boxes.a.publishAsync('sb/v1/a/cmd/box', '{"type":"silence"}', { qos: 1 })).rejects.toThrow(/Not authorized/);
    // And a malformed payload is rejected with a reason, crashing nothing.
    await boxes.a.publishAsync('sb/v1/a/event', '{"site":"a","seq":"x"}', { qos: 1 });
    await Promise.all(Object.values(boxes).map((b) => b.endAsync()));

    const events = (): Record<string, any>[] => [x, y].flatMap((i) => i.lines.filter((l) => l.kind === 'event'));
    await until('every message delivered', () => events().length === plan.length + resent.size);
    for (const i of [x, y]) i.child.kill('SIGTERM');
    expect(await x.exited).toBe(0);
    expect(await y.exited).toBe(0);

    const fresh = events().filter((e) => e.fresh).map((e) => `${e.site}:${e.seq}`);
    expect(fresh.length).toBe(plan.length);
    expect(new Set(fresh)).toEqual(new Set(plan.map(([s, q]) => `${s}:${q}`)));
    expect(events().filter((e) => !e.fresh).map((e) => `${e.site}:${e.seq}`).sort()).toEqual([...resent].sort());
    // The group split the load: each instance took a share.
    for (const i of [x, y]) expect(i.lines.filter((l) => l.kind === 'event').length).toBeGreaterThan(0);
    // The announced gap was said once (seq 35 was resent), by whichever instance took it first.
    expect([x, y].flatMap((i) => i.lines.filter((l) => l.kind === 'announced_gap'))).toEqual([{ kind: 'announced_gap', site: 'a', from: 31, to: 34 }]);
    const rejected = [x, y].flatMap((i) => i.lines.filter((l) => l.kind === 'rejected'));
    expect(rejected).toEqual([{ kind: 'rejected', topic: 'sb/v1/a/event', reason: 'seq must be a positive integer, got "x"' }]);

    // Both final reports read the shared store: the same gaps from either instance.
    for (const i of [x, y]) {
      const r = i.lines.find((l) => l.kind === 'report' && l.final);
      expect(r, i.stderr()).toBeDefined();
      expect(r!.sites.a).toMatchObject({ events: 46, first: 1, last: 50, announced: [[31, 34]], gaps: [] });
      expect(r!.sites.b).toMatchObject({ events: 39, first: 1, last: 40, announced: [], gaps: [[17, 17]] });
      expect(r!.sites.a.lag_max_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('refuses bad options with a clear message', async () => {
    for (const [args, msg] of [
      [['--url', 'http://x'], /--url must be/],
      [['--url', 'mqtt://127.0.0.1:1', '--group', 'a/b'], /--group may hold only/],
      [['--url', 'mqtt://127.0.0.1:1', '--password-file', join(dir, 'absent')], /cannot read --password-file/],
      [['--url', 'mqtt://127.0.0.1:1', '--nope'], /Unknown option/],
    ] as [string[], RegExp][]) {
      const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      expect(code).toBe(2);
      expect(err).toMatch(msg);
    }
  });
});
