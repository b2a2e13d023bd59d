/**
 * The panel's security sweep (issue 17), over real HTTP on a real box: every route Fastify
 * registered (the panel's own list, taken by an onRoute hook before the first route: a route
 * added later is in it) is checked, not a list kept by hand.
 *
 * - every state-changing method: without a session 401, without the CSRF token 403, as an
 *   observer 403 — and nothing is done or commanded (the body sent is a real siren command);
 * - every GET under /api/ and /review/ without a session 401; every GET changes nothing;
 * - every siren and broadcast in the log names who started it, and those started from the
 *   panel name the officer, with the command's `by`, `role` and `via: panel`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../gateway/store/types.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { panelClient, type PanelClient } from '../helpers/panel-client.ts';
import { until } from '../helpers/until.ts';

let rig: BoxRig;
let base: string;

beforeAll(async () => {
  rig = await startBoxRig('panel: { host: 127.0.0.1, port: 0 }');
  base = rig.panelUrl!;
});
afterAll(async () => rig?.stop());

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** State-changing routes anyone may call: signing in. */
const PUBLIC_WRITES = ['POST /api/session'];
/** State-changing routes an observer may call: signing out. */
const OBSERVER_WRITES = ['DELETE /api/session'];
/** GETs that need a session: the API and the drill reviews. The rest (the page's files) are public. */
const guarded = (url: string): boolean => url.startsWith('/api/') || url.startsWith('/review/');

/** A concrete URL for a route: its parameters filled with values that exist, wildcards with a name. */
function concrete(url: string): string {
  return url.replace(/:id\b/g, url.startsWith('/api/sensors') ? 'rg1' : '1').replace(/:[A-Za-z_]+/g, 'x').replace(/\*/g, 'x');
}

const routes = () => rig.box.panel!.routes.map((r) => ({ ...r, key: `${r.method} ${r.url}`, path: concrete(r.url) }));
const commands = (): StoredEvent[] => rig.box.store.since(0).filter((e) => e.type === 'command' || e.type === 'effect');
/** A real command: if any rule failed, a siren would sound and the log would say so. */
const SIREN = { type: 'siren', pattern: 'test' };

async function signedIn(user: string): Promise<PanelClient> {
  const c = panelClient(base);
  expect((await c.signIn(user)).status).toBe(200);
  return c;
}

describe('panel security sweep: every registered route', () => {
  it('the list is the registered routes, and the exemptions name routes that exist', () => {
    const keys = routes().map((r) => r.key);
    expect(keys).toEqual(expect.arrayContaining(['POST /api/session', 'GET /api/session', 'DELETE /api/session', 'GET /api/state', 'POST /api/commands', 'GET /api/events', 'GET /api/sensors/:id/history', 'GET /api/live', 'GET /api/drills', 'GET /review/:id']));
    for (const k of [...PUBLIC_WRITES, ...OBSERVER_WRITES]) expect(keys).toContain(k);
  });

  it('every state-changing route: no session → 401, no CSRF → 403, observer → 403; nothing is done', async () => {
    const writes = routes().filter((r) => !READS.has(r.method));
    expect(writes.length).toBeGreaterThanOrEqual(3);
    const before = commands().length;
    const none = panelClient(base);
    const wang = await signedIn('wang');
    const viewer = await signedIn('viewer');
    for (const r of writes) {
      if (!PUBLIC_WRITES.includes(r.key)) expect([r.key, (await none.req(r.method, r.path, SIREN)).status]).toEqual([r.key, 401]);
      if (!PUBLIC_WRITES.includes(r.key)) expect([r.key, (await wang.req(r.method, r.path, SIREN, { csrf: false })).status]).toEqual([r.key, 403]);
      if (!PUBLIC_WRITES.includes(r.key) && !OBSERVER_WRITES.includes(r.key)) expect([r.key, (await viewer.req(r.method, r.path, SIREN)).status]).toEqual([r.key, 403]);
    }
    expect(commands().length).toBe(before);
    // Still signed in: the refusals ended no session.
    expect((await wang.req('GET', '/api/session')).status).toBe(200);
  });

  it('every GET of the API and the reviews: no session → 401; and no GET changes anything', async () => {
    const reads = routes().filter((r) => r.method === 'GET' || r.method === 'HEAD');
    for (const r of reads.filter((x) => guarded(x.url))) {
      const ctl = new AbortController();
      const res = await fetch(`${base}${r.path}`, { method: r.method, signal: ctl.signal });
      ctl.abort();
      expect([r.key, res.status]).toEqual([r.key, 401]);
    }
    const wang = await signedIn('wang');
    const seq = rig.box.store.lastSeq();
    for (const r of reads) {
      const ctl = new AbortController();
      // The live stream never ends by itself: its headers are the answer.
      const res = await fetch(`${base}${r.path}`, { method: r.method, headers: { cookie: wang.cookie! }, signal: ctl.signal });
      // Not a failure of the box (a page not built yet answers a deliberate 503).
      expect([r.key, res.status]).not.toEqual([r.key, 500]);
      ctl.abort();
    }
    expect(rig.box.store.lastSeq()).toBe(seq);
  });

  it('every siren and broadcast in the log names who; those from the panel name the officer, with the command’s by, role and via', async () => {
    const wang = await signedIn('wang');
    // In an order where each finds its actuators free (a lower priority would wait in the queue).
    const sent = [
      { type: 'drill', kind: 'smoke', level: 'red', command_id: 'sec-drill' },
      { type: 'drill_end', command_id: 'sec-drill-end' },
      { type: 'test', command_id: 'sec-test' },
      { type: 'stop', command_id: 'sec-stop' },
      { type: 'broadcast', text_zh: '请注意', zones: ['b3'], command_id: 'sec-text' },
      // Emergency: it takes the speaker from the one before at once.
      { type: 'broadcast', template: 'evacuation', zones: ['site'], emergency: true, command_id: 'sec-template' },
      { type: 'siren', pattern: 'test', command_id: 'sec-siren' },
      { type: 'stop', command_id: 'sec-stop-2' },
    ];
    for (const body of sent) expect([body.command_id, (await wang.req('POST', '/api/commands', body)).status]).toEqual([body.command_id, 200]);
    const log = () => rig.box.store.since(0);
    await until('the commands on record', () => sent.every((b) => log().some((e) => e.type === 'command' && (e.payload as { commandId?: string }).commandId === b.command_id)));
    for (const b of sent) {
      const i = log().findIndex((e) => e.type === 'command' && (e.payload as { commandId?: string }).commandId === b.command_id);
      const c = log()[i]!;
      expect(c.payload).toMatchObject({ by: 'wang', role: 'officer', via: 'panel', result: { ok: true } });
      // What it caused is logged right behind it, before the next command: each siren and broadcast names wang.
      const next = log().findIndex((e, j) => j > i && e.type === 'command');
      const caused = log()
        .slice(i + 1, next < 0 ? undefined : next)
        .filter((e) => e.type === 'effect' && ['siren', 'broadcast'].includes((e.payload as { type: string }).type));
      if (['siren', 'broadcast', 'test', 'drill'].includes(b.type)) {
        expect([b.command_id, caused.length > 0]).toEqual([b.command_id, true]);
        for (const e of caused) expect([b.command_id, (e.payload as { by: string }).by]).toEqual([b.command_id, 'wang']);
      }
    }
    const sounds = log().filter((e) => e.type === 'effect' && ['siren', 'broadcast', 'siren_off', 'broadcast_stop'].includes((e.payload as { type: string }).type));
    expect(sounds.length).toBeGreaterThanOrEqual(8);
    for (const e of sounds) expect(typeof (e.payload as { by?: unknown }).by === 'string' && (e.payload as { by: string }).by.length > 0).toBe(true);
    // The template broadcast carried its id to the speaker's effect.
    expect(log().some((e) => e.type === 'effect' && (e.payload as { template?: string }).template === 'evacuation' && (e.payload as { by: string }).by === 'wang')).toBe(true);
  });

  it('a broadcast naming a template the site does not have: 400 with its path, nothing done', async () => {
    const wang = await signedIn('wang');
    const before = commands().length;
    const r = await wang.req('POST', '/api/commands', { type: 'broadcast', template: 'launch' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/^body\.template: no template 'launch' in this site \(templates: evacuation, /);
    const none = await wang.req('POST', '/api/commands', { type: 'broadcast', zones: ['site'] });
    expect(await none.json()).toEqual({ error: 'body.textZh: is required without a template' });
    expect(commands().length).toBe(before);
  });
});
