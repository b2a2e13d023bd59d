/**
 * The page's build and how the box serves it, over real HTTP (no browser): the build is
 * content-hashed, precompressed, weighed and not redone when up to date; the box serves the
 * files with the precompressed body the client accepts, its headers and nothing outside the
 * folder; /api/page-config needs a session; a box whose page was never built answers 503 in
 * both languages at `/` while the API works.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import cookie from '@fastify/cookie';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrors } from '../../gateway/panel/errors.ts';
import { pageRoutes } from '../../gateway/panel/routes-page.ts';
import { startDemo } from '../../gateway/demo.ts';
import { Sessions } from '../../gateway/panel/sessions.ts';
import { buildPanel, PAGE_OUT, WEIGHT_LIMIT } from '../../scripts/build-panel.mjs';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { panelClient } from '../helpers/panel-client.ts';

let rig: BoxRig;
let base: string;

beforeAll(async () => {
  await buildPanel();
  rig = await startBoxRig('panel: { host: 127.0.0.1, port: 0 }');
  base = rig.panelUrl!;
});

afterAll(async () => rig?.stop());

describe('the page build', () => {
  it('writes hashed files with .gz and .br, weighs them under the limit, and does nothing when up to date', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sb-build-')), 'panel/');
    const first = await buildPanel({ out });
    expect(first.built).toBe(true);
    const m = first.manifest;
    expect(m.total_gzip_bytes).toBeLessThanOrEqual(WEIGHT_LIMIT);
    expect(m.files.map((f) => f.name).sort()).toEqual(expect.arrayContaining(['index.html', 'favicon.svg']));
    for (const f of m.files) {
      const body = readFileSync(join(out, f.name));
      expect(body.length).toBe(f.bytes);
      expect(gunzipSync(readFileSync(join(out, `${f.name}.gz`)))).toEqual(body);
      expect(brotliDecompressSync(readFileSync(join(out, `${f.name}.br`)))).toEqual(body);
    }
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    for (const ref of html.match(/(?<=(?:src|href)="\/)[^"]+/g)!) expect(existsSync(join(out, ref)), ref).toBe(true);
    expect(html).toMatch(/main-[A-Z0-9]{8}\.js/);
    const again = await buildPanel({ out });
    expect(again.built).toBe(false);
    expect(again.manifest.inputs).toBe(m.inputs);
  });
});

describe('the box serving the page', () => {
  it('serves / as the page, precompressed by Accept-Encoding, with a CSP; hashed files immutable', async () => {
    const plain = await fetch(`${base}/`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-encoding')).toBeNull();
    const html = await plain.text();
    expect(html).toBe(readFileSync(join(PAGE_OUT, 'index.html'), 'utf8'));
    expect(plain.headers.get('content-security-policy')).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(plain.headers.get('x-content-type-options')).toBe('nosniff');
    const css = /href="\/(style-[A-Z0-9]{8}\.css)"/.exec(html)![1]!;
    const br = await fetch(`${base}/${css}`, { headers: { 'accept-encoding': 'br' } });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('content-type')).toMatch(/^text\/css/);
    expect(br.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(br.headers.get('vary')).toMatch(/accept-encoding/i);
  });

  it('serves nothing outside its folder: unknown files, dot files and ../ are 404; the API keeps its own 404', async () => {
    expect((await fetch(`${base}/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/.env`)).status).toBe(404);
    expect((await fetch(`${base}/%2e%2e/package.json`)).status).toBe(404);
    expect((await fetch(`${base}/..%2fpackage.json`)).status).toBe(404);
    const api = await fetch(`${base}/api/nothing`);
    expect(api.status).toBe(404);
    expect(await api.json()).toEqual({ error: 'no route GET /api/nothing' });
  });

  it('GET /api/page-config: the signals by name and the broadcast repeat, for a signed-in page only', async () => {
    expect((await fetch(`${base}/api/page-config`)).status).toBe(401);
    const c = panelClient(base);
    await c.signIn('viewer');
    const r = (await (await c.req('GET', '/api/page-config')).json()) as { patterns: { id: string; name_zh: string; total_s: number }[]; broadcast_repeat: number; broadcast_repeat_max: number };
    expect(r.patterns.find((p) => p.id === 'test')).toMatchObject({ name_zh: '试鸣', total_s: 3 });
    expect(r.patterns.find((p) => p.id === 'air_raid_alarm')).toMatchObject({ name_zh: '紧急警报', total_s: 174 });
    expect(r).toMatchObject({ broadcast_repeat: 3, broadcast_repeat_max: 10 });
  });

  it('a box whose page was never built answers 503 at / in both languages and logs why; the API still works', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const app = Fastify();
    await app.register(cookie);
    installErrors(app, log);
    await pageRoutes(app, rig.box.ctx, new Sessions(60_000, () => performance.now()), log, null);
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toBe('60');
    expect(r.body).toMatch(/尚未构建.*not built.*npm run build-panel/s);
    expect((await app.inject({ method: 'GET', url: '/api/page-config' })).statusCode).toBe(401);
    expect(lines.some((l) => /panel page not built/.test(l) && /"level":50/.test(l))).toBe(true);
    await app.close();
  });
});

describe('npm start (the demo)', () => {
  it("logs the page's URL and the demo officer's sign-in, and both work", async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const demo = await startDemo({ log, stepMs: 60_000, tcpPort: 0, wsPort: 0, panelPort: 0, dbPath: join(mkdtempSync(join(tmpdir(), 'sb-demo-page-')), 'demo.db') });
    try {
      const line = JSON.parse(lines.find((l) => l.includes('"panel":"http'))!) as { panel: string; username: string; password: string; msg: string };
      expect(line.msg).toMatch(/^duty officer's panel at http:\/\/127\.0\.0\.1:\d+\/ .*sign in as wang \/ demo-officer-pass/);
      const page = await fetch(line.panel);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<div id="app">/);
      expect((await panelClient(line.panel.replace(/\/$/, '')).signIn(line.username, line.password)).status).toBe(200);
    } finally {
      await demo.stop();
    }
  });
});
