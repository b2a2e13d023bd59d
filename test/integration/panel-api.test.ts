/**
 * The panel API over real HTTP on loopback (Node's fetch, and node:http for a second source
 * address), served by a real box (Aedes, SQLite in a temp folder, mqtt.js devices): sign-in,
 * lockout, sessions, CSRF, roles, commands reaching the actuators' topics, the event log as
 * JSON and CSV, sensor history, and the live stream.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../gateway/shell/clock.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { pw } from '../helpers/box-site.ts';
import { panelClient } from '../helpers/panel-client.ts';
import { until } from '../helpers/until.ts';

let rig: BoxRig;
let base: string;
/** The box's monotonic clock runs `skew` ms ahead when a test needs time to pass. */
let skew = 0;

beforeAll(async () => {
  const sys = systemClock();
  const clock: Clock = { ...sys, mono: () => sys.mono() + skew };
  rig = await startBoxRig('panel: { host: 127.0.0.1, port: 0 }', { clock });
  base = rig.panelUrl!;
});

afterAll(async () => rig?.stop());

/** A sign-in from another loopback address (Linux routes all of 127/8 to lo). */
function signInFrom(localAddress: string, username: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ username, password });
    const u = new URL(`${base}/api/session`);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const events = (type: string) => rig.box.store.since(0).filter((e) => e.type === type);

describe('panel: signing in', () => {
  it('signs an officer in with an HttpOnly, SameSite=Strict, Path=/ cookie and a CSRF token; GET /api/session says who', async () => {
    const c = panelClient(base);
    const r = await c.signIn('wang');
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, string>;
    expect(body).toMatchObject({ username: 'wang', role: 'officer' });
    expect(body.csrf_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const flags = c.setCookie!.split(';').map((s) => s.trim());
    expect(flags[0]).toMatch(/^sb_session=[A-Za-z0-9_-]{43}$/);
    expect(flags).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=43200']));
    const me = await c.req('GET', '/api/session');
    expect(await me.json()).toMatchObject({ username: 'wang', role: 'officer', csrf_token: body.csrf_token });
    const signIn = events('session').at(-1)!.payload;
    expect(signIn).toMatchObject({ action: 'sign_in', username: 'wang', role: 'officer', address: '127.0.0.1', via: 'panel' });
  });

  it('refuses a wrong password, devices and the township account with 401, and bad bodies with 400 path: message', async () => {
    const c = panelClient(base);
    expect((await c.signIn('wang', 'wrong-password')).status).toBe(401);
    expect((await c.signIn('rg1')).status).toBe(401); // a device's right password
    expect((await c.signIn('town')).status).toBe(401); // the township's right password
    const post = (body: string, type = 'application/json') => fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': type }, body });
    const missing = await post(JSON.stringify({ username: 'wang' }));
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: "body: must have required property 'password'" });
    const extra = await post(JSON.stringify({ username: 'wang', password: 'x', role: 'officer' }));
    expect(((await extra.json()) as { error: string }).error).toBe("body: must NOT have additional properties 'role'");
    expect((await post('{"username": ')).status).toBe(400);
    expect((await post('username=wang&password=x', 'application/x-www-form-urlencoded')).status).toBe(415);
  });

  it("locks a username@address out after 5 failures; the real officer's own address is not locked by them", async () => {
    for (let i = 0; i < 5; i++) expect(await signInFrom('127.0.0.2', 'viewer', 'guess-' + i)).toBe(401);
    // Locked: even the right password from that address is refused, without scrypt.
    expect(await signInFrom('127.0.0.2', 'viewer', pw('viewer'))).toBe(429);
    // The observer from their own address gets in.
    expect(await signInFrom('127.0.0.3', 'viewer', pw('viewer'))).toBe(200);
    expect(events('session').some((e) => (e.payload as Record<string, unknown>).action === 'locked_out' && (e.payload as Record<string, unknown>).address === '127.0.0.2')).toBe(true);
    // Now guesses from the observer's own address lock it too; the password verified lately still gets in (the fast lane).
    for (let i = 0; i < 5; i++) expect(await signInFrom('127.0.0.3', 'viewer', 'again-' + i)).toBe(401);
    expect(await signInFrom('127.0.0.3', 'viewer', 'again-5')).toBe(429);
    expect(await signInFrom('127.0.0.3', 'viewer', pw('viewer'))).toBe(200);
  });
});

describe('panel: sessions, CSRF and roles', () => {
  it('every state-changing route: no session → 401, no CSRF → 403; commands by an observer → 403', async () => {
    const none = panelClient(base);
    expect((await none.req('POST', '/api/commands', { type: 'silence' })).status).toBe(401);
    expect((await none.req('DELETE', '/api/session')).status).toBe(401);
    for (const path of ['/api/state', '/api/events', '/api/session', '/api/sensors/rg1/history', '/api/live']) expect((await none.req('GET', path)).status).toBe(401);

    const wang = panelClient(base);
    await wang.signIn('wang');
    expect((await wang.req('POST', '/api/commands', { type: 'silence' }, { csrf: false })).status).toBe(403);
    expect((await wang.req('POST', '/api/commands', { type: 'silence' }, { headers: { 'x-csrf-token': 'x'.repeat(43) }, csrf: false })).status).toBe(403);
    expect((await wang.req('DELETE', '/api/session', undefined, { csrf: false })).status).toBe(403);
    expect((await wang.req('GET', '/api/session')).status).toBe(200); // still signed in

    const viewer = panelClient(base);
    expect((await viewer.signIn('viewer')).status).toBe(200);
    const seq = rig.box.store.lastSeq();
    const r = await viewer.req('POST', '/api/commands', { type: 'siren', pattern: 'test' });
    expect(r.status).toBe(403);
    expect(rig.box.store.lastSeq()).toBe(seq); // nothing was done or logged as a command
    expect((await viewer.req('GET', '/api/state')).status).toBe(200);
  });

  it('a GET changes nothing', async () => {
    const c = panelClient(base);
    await c.signIn('wang');
    const seq = rig.box.store.lastSeq();
    for (const path of ['/api/state', '/api/session', '/api/events?limit=10', '/api/events?format=csv', '/api/sensors/rg1/history?hours=1']) expect((await c.req('GET', path)).status).toBe(200);
    expect(rig.box.store.lastSeq()).toBe(seq);
  });

  it('signs out: the cookie no longer works, and it is on record', async () => {
    const c = panelClient(base);
    await c.signIn('wang');
    const r = await c.req('DELETE', '/api/session');
    expect(r.status).toBe(200);
    expect((await c.req('GET', '/api/state')).status).toBe(401);
    expect(events('session').at(-1)!.payload).toMatchObject({ action: 'sign_out', username: 'wang', via: 'panel' });
  });

  it('a session ends 12 h after its last request, on the monotonic clock', async () => {
    const c = panelClient(base);
    await c.signIn('wang');
    skew += 11 * 3600_000;
    expect((await c.req('GET', '/api/session')).status).toBe(200); // used: idle time starts again
    skew += 11 * 3600_000;
    expect((await c.req('GET', '/api/state')).status).toBe(200);
    skew += 12 * 3600_000 + 1000;
    expect((await c.req('GET', '/api/state')).status).toBe(401);
    expect(events('session').at(-1)!.payload).toMatchObject({ action: 'expired', username: 'wang' });
  });
});

describe('panel: commands', () => {
  it("a broadcast and a siren test reach the actuators' cmd topics and are in the log with who", async () => {
    const spk = await rig.connect('spk1');
    const siren = await rig.connect('siren1');
    const heard: any[] = [];
    const sounded: any[] = [];
    spk.on('message', (_t, p) => heard.push(JSON.parse(p.toString())));
    siren.on('message', (_t, p) => sounded.push(JSON.parse(p.toString())));
    await spk.subscribeAsync('sb/v1/itest/cmd/spk1', { qos: 1 });
    await siren.subscribeAsync('sb/v1/itest/cmd/siren1', { qos: 1 });
    const c = panelClient(base);
    await c.signIn('wang');

    const b = await c.req('POST', '/api/commands', { type: 'broadcast', text_zh: '请立即撤离到村委会', zones: ['site'], command_id: 'b-1' });
    expect(b.status).toBe(200);
    expect(await b.json()).toEqual({ command_id: 'b-1', ok: true });
    await until('the broadcast at spk1', () => heard.find((m) => m.type === 'broadcast' || m.text_zh === '请立即撤离到村委会' || m.textZh === '请立即撤离到村委会'));

    const t = await c.req('POST', '/api/commands', { type: 'siren', pattern: 'test' });
    expect(t.status).toBe(200);
    const tid = ((await t.json()) as { command_id: string }).command_id;
    expect(tid).toMatch(/^panel-/);
    await until('the siren test at siren1', () => sounded.find((m) => m.type === 'siren' && m.pattern === 'test'));

    const cmds = events('command').map((e) => e.payload as Record<string, any>);
    expect(cmds.find((p) => p.commandId === 'b-1')).toMatchObject({ by: 'wang', role: 'officer', via: 'panel', command: { type: 'broadcast', textZh: '请立即撤离到村委会' }, result: { ok: true } });
    expect(cmds.find((p) => p.commandId === tid)).toMatchObject({ by: 'wang', via: 'panel', command: { type: 'siren', pattern: 'test' } });
  });

  it('refuses bad payloads with 400 path: message, township commands with 403, and says what the box refused (409)', async () => {
    const c = panelClient(base);
    await c.signIn('wang');
    const bad = await c.req('POST', '/api/commands', { type: 'broadcast', text_zh: '撤离', zones: 'site' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'body.zones: must be array' });
    expect(((await (await c.req('POST', '/api/commands', { type: 'launch' })).json()) as { error: string }).error).toMatch(/^body\.type: not a command type/);
    expect((await c.req('POST', '/api/commands', { type: 'silence', by: 'someone' })).status).toBe(400);
    expect((await c.req('POST', '/api/commands', { type: 'report' })).status).toBe(403);
    const ack = await c.req('POST', '/api/commands', { type: 'ack', alert: 'rg1/rain/1', command_id: 'a-1' });
    expect(ack.status).toBe(409);
    expect(await ack.json()).toMatchObject({ command_id: 'a-1', ok: false, error: expect.any(String) });
  });
});

describe('panel: events, history, live', () => {
  it('events as JSON with filters and paging, and as CSV with a BOM, a header row and Chinese intact', async () => {
    const c = panelClient(base);
    await c.signIn('wang');
    const j = (await (await c.req('GET', '/api/events?type=command&limit=1')).json()) as { events: any[]; next_after_seq: number | null };
    expect(j.events).toHaveLength(1);
    expect(j.events[0]).toMatchObject({ site: 'itest', type: 'command', via: 'panel', command_id: 'b-1', by: 'wang' });
    expect(j.next_after_seq).toBe(j.events[0].seq);
    const rest = (await (await c.req('GET', `/api/events?type=command&after_seq=${j.next_after_seq}`)).json()) as { events: any[] };
    expect(rest.events.length).toBeGreaterThan(0);
    expect(rest.events.every((e) => e.type === 'command' && e.seq > j.next_after_seq!)).toBe(true);
    expect(rest.events.some((e) => e.command.type === 'siren' && e.command.pattern === 'test')).toBe(true);
    const future = (await (await c.req('GET', '/api/events?since=2999-01-01T00:00:00%2B08:00')).json()) as { events: any[] };
    expect(future.events).toEqual([]);
    expect((await c.req('GET', '/api/events?type=nonsense')).status).toBe(400);
    expect((await c.req('GET', '/api/events?limit=5000')).status).toBe(400);

    const csv = await c.req('GET', '/api/events?format=csv&type=command');
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const bytes = Buffer.from(await csv.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(lines[0]).toBe('seq,at,type,zone,alert,level,by,text_zh,text_en,clock_trusted,payload');
    const row = lines.find((l) => l.includes('请立即撤离到村委会'))!;
    expect(row).toMatch(/^\d+,[^,]+,command,site,,,wang,请立即撤离到村委会,/);
    expect(lines.slice(1).filter(Boolean).every((l) => /^\d+,[^,]+,command,/.test(l))).toBe(true);
  });

  it("a sensor's history is its rollups; an unknown sensor is 404", async () => {
    const rg1 = await rig.connect('rg1');
    await rg1.publishAsync('sb/v1/itest/sensor/rg1/reading', JSON.stringify({ value: 12.5, unit: 'mm' }), { qos: 1 });
    const c = panelClient(base);
    await c.signIn('wang');
    let seen: any;
    for (let i = 0; i < 200 && !seen; i++) {
      seen = ((await (await c.req('GET', '/api/state')).json()) as any).sensors.find((s: any) => s.id === 'rg1' && s.value === 12.5);
      if (!seen) await new Promise((r) => setTimeout(r, 25));
    }
    expect(seen).toMatchObject({ quality: 'good', kind: 'rain' });
    rig.box.store.rollup(Date.now() + 120_000);
    const h = (await (await c.req('GET', '/api/sensors/rg1/history?hours=1')).json()) as any;
    expect(h).toMatchObject({ sensor: 'rg1', kind: 'rain', unit: 'mm' });
    expect(h.minutes.at(-1)).toMatchObject({ n: 1, last: 12.5 });
    const missing = await c.req('GET', '/api/sensors/nope/history');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toMatch(/^params\.id: /);
    expect((await c.req('GET', '/api/sensors/rg1/history?hours=0')).status).toBe(400);
  });

  it('the live stream pushes an alert raised by a device reading, and ends at sign-out', async () => {
    const c = panelClient(base);
    await c.signIn('wang');
    const res = await c.req('GET', '/api/live');
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let text = '';
    let ended = false;
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
      ended = true;
    })();
    await until('the first state', () => text.includes('event: state'));
    const sm1 = await rig.connect('sm1');
    const sm2 = await rig.connect('sm2');
    await sm1.publishAsync('sb/v1/itest/sensor/sm1/reading', JSON.stringify({ value: 'alarm' }), { qos: 1 });
    await sm2.publishAsync('sb/v1/itest/sensor/sm2/reading', JSON.stringify({ value: 'alarm' }), { qos: 1 });
    const blocks = (): string[] => text.split('\n\n');
    const raised = await until('the fire transition on the stream', () => blocks().find((b) => b.startsWith('event: logged') && b.includes('"type":"transition"') && b.includes('"zone":"b3"')));
    const data = JSON.parse(raised.split('\n').find((l) => l.startsWith('data: '))!.slice(6));
    expect(data).toMatchObject({ site: 'itest', type: 'transition', zone: 'b3' });
    expect(data.text_zh).toMatch(/烟感/);
    await until('a state with the alert', () =>
      blocks().some((b) => b.startsWith('event: state') && JSON.parse(b.split('\ndata: ')[1] ?? '{}').alerts?.some((a: any) => a.zone === 'b3' && a.text_zh)),
    );
    // How long it has been active, in words the officer reads: from the raise time the alert carries.
    const fire = ((await (await c.req('GET', '/api/state')).json()) as { alerts: { zone: string; raised_at: string; age_s: number }[] }).alerts.find((a) => a.zone === 'b3')!;
    expect(fire.raised_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(fire.age_s).toBeGreaterThanOrEqual(0);
    expect((await c.req('DELETE', '/api/session')).status).toBe(200);
    await until('the stream ended', () => ended);
  });
});
