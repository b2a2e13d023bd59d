/**
 * Recorded announcements uploaded from the panel (issue 18), over real HTTP on a real box:
 * `PUT /api/recordings/<template>` with WAVs made by sox, stored by the same check-and-store as
 * `shaobing audio add`, listed by `GET /api/recordings`, logged with who; each refusal with its
 * words and nothing changed; the roles and CSRF; and the speakers' renderer playing the new
 * file at the next broadcast, a replaced one included (no restart).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderBroadcast } from '../../drivers/speaker/render.ts';
import { CHIME_LENGTH_S } from '../../drivers/speaker/chime.ts';
import { PAUSE_AFTER_CHIME_MS } from '../../drivers/speaker/script.ts';
import { MAX_UPLOAD_BYTES } from '../../gateway/panel/routes-recordings.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { panelClient, type PanelClient } from '../helpers/panel-client.ts';
import { dominantHz } from '../helpers/sox.ts';

let rig: BoxRig;
let base: string;
let dir: string;
let folder: string;
let wang: PanelClient;
const f = (name: string): string => join(dir, name);
const sox = (...args: string[]): void => void execFileSync('sox', args, { stdio: ['ignore', 'ignore', 'pipe'] });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sb-panel-rec-'));
  folder = join(dir, 'recordings');
  // `fire` names another file in the config: a recording stored for it does not play.
  rig = await startBoxRig(`panel: { host: 127.0.0.1, port: 0 }\naudio: { folder: '${folder}' }\nbroadcasts: { templates: { fire: { audio: fire-zh.wav } } }`);
  base = rig.panelUrl!;
  sox('-n', '-r', '16000', '-c', '1', '-b', '16', f('voice.wav'), 'synth', '4', 'sine', '300-900', 'vol', '0.4');
  sox('-n', '-r', '22050', '-c', '1', '-b', '16', f('tone1000.wav'), 'synth', '2', 'sine', '1000', 'vol', '0.5');
  sox('-n', '-r', '44100', '-c', '2', '-b', '24', f('tone400.wav'), 'synth', '2', 'sine', '400', 'vol', '0.5');
  sox('-n', '-r', '16000', '-c', '1', '-b', '16', f('silent.wav'), 'trim', '0', '3');
  sox('-n', '-r', '8000', '-c', '1', '-b', '16', f('long.wav'), 'synth', '301', 'sine', '300', 'vol', '0.2');
  sox('-n', '-r', '16000', '-c', '1', f('song.flac'), 'synth', '1', 'sine', '440');
  writeFileSync(f('notes.txt'), '这不是音频\n');
  wang = panelClient(base);
  expect((await wang.signIn('wang')).status).toBe(200);
});

afterAll(async () => {
  await rig?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** PUT a file's bytes as the browser page does. */
async function upload(c: PanelClient, template: string, file: string | Buffer, o: { csrf?: boolean; name?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'audio/wav' };
  if (c.cookie) headers.cookie = c.cookie;
  if (c.csrf && o.csrf !== false) headers['x-csrf-token'] = c.csrf;
  if (o.name) headers['x-file-name'] = encodeURIComponent(o.name);
  const r = await fetch(`${base}/api/recordings/${template}`, { method: 'PUT', headers, body: new Uint8Array(typeof file === 'string' ? readFileSync(file) : file) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const recEvents = () => rig.box.store.since(0).filter((e) => e.type === 'recording');
type Listing = { template: string; stored: boolean; file: string | null; duration_s: number | null; size_bytes: number | null; stored_at: string | null; plays: string | null; stored_plays: boolean };
async function listing(): Promise<Listing[]> {
  const r = await wang.req('GET', '/api/recordings');
  expect(r.status).toBe(200);
  return ((await r.json()) as { recordings: Listing[] }).recordings;
}

/** The evacuation broadcast as the speakers make it, and the strongest tone where the recording plays (after the chime). */
async function heardHz(name: string): Promise<number> {
  const out = f(`${name}.wav`);
  await renderBroadcast({ textZh: '请立即撤离到避难所', repeat: 1, template: 'evacuation' }, rig.box.ctx.config, { path: out });
  return dominantHz(out, [CHIME_LENGTH_S + PAUSE_AFTER_CHIME_MS / 1000 + 0.3, 1]);
}

describe('panel: uploading a recorded announcement', () => {
  it('stores a good WAV byte for byte, logs it with who, lists it; the next broadcast plays it', async () => {
    const before = await heardHz('before');
    const r = await upload(wang, 'evacuation', f('tone1000.wav'), { name: '撤离.wav' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ action: 'stored', template: 'evacuation', by: 'wang', role: 'officer', via: 'panel', file: join(folder, 'evacuation.wav'), previous: null, duration_s: 2, plays: true, config_hint: null });
    expect(r.body.format).toMatch(/^PCM 16-bit, mono, 22050 Hz, 2\.0 s, loudest 100 ms -\d+\.\d dBFS/);
    expect(readFileSync(join(folder, 'evacuation.wav')).equals(readFileSync(f('tone1000.wav')))).toBe(true);
    expect(recEvents().at(-1)!.payload).toMatchObject({ action: 'stored', template: 'evacuation', by: 'wang', role: 'officer', via: 'panel', size_bytes: readFileSync(f('tone1000.wav')).length });
    const list = await listing();
    const evac = list.find((x) => x.template === 'evacuation')!;
    expect(evac).toMatchObject({ stored: true, duration_s: 2, size_bytes: readFileSync(f('tone1000.wav')).length, stored_plays: true, plays: join(folder, 'evacuation.wav') });
    expect(evac.stored_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect(list.find((x) => x.template === 'rainstorm')).toMatchObject({ stored: false, file: null, plays: null, stored_plays: false });
    // Before: TTS (no 1 kHz tone); after: the recording, with no restart.
    expect(Math.abs(before - 1000)).toBeGreaterThan(50);
    expect(Math.abs((await heardHz('after')) - 1000)).toBeLessThan(20);
  });

  it('a replaced recording plays at the next broadcast (the decoded one is not reused); the one before is kept', async () => {
    const r = await upload(wang, 'evacuation', f('tone400.wav'));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ previous: join(folder, 'evacuation.previous.wav'), duration_s: 2 });
    expect(readFileSync(join(folder, 'evacuation.previous.wav')).equals(readFileSync(f('tone1000.wav')))).toBe(true);
    expect(Math.abs((await heardHz('replaced')) - 400)).toBeLessThan(15);
  });

  it('a template whose config names another file: stored, and the answer says the config plays the other one', async () => {
    const r = await upload(wang, 'fire', f('voice.wav'));
    expect(r.status).toBe(200);
    expect(r.body.plays).toBe(false);
    expect(r.body.config_hint).toMatch(/^the config plays .*fire-zh\.wav for 'fire'; to play this one instead, set broadcasts: \{ templates: \{ fire: \{ audio: fire\.wav \} \} \}/);
    expect((await listing()).find((x) => x.template === 'fire')).toMatchObject({ stored: true, stored_plays: false, plays: join(folder, 'fire-zh.wav') });
  });

  it('refuses silent, too long, not audio and unknown templates with the words of `audio add`; nothing changes', async () => {
    const stored = readFileSync(join(folder, 'evacuation.wav'));
    const n = recEvents().length;
    const silent = await upload(wang, 'evacuation', f('silent.wav'));
    expect([silent.status, silent.body.code]).toEqual([400, 'silent']);
    expect(silent.body.error).toMatch(/^body: it is silent: its loudest 100 ms is -\d+\.\d dBFS, below -50 dBFS \(was the microphone muted\?\)$/);
    const long = await upload(wang, 'evacuation', f('long.wav'));
    expect([long.status, long.body.code, long.body.error]).toEqual([400, 'too_long', 'body: it is 5 min 1 s long; a recording may be at most 5 min (a broadcast is cut off at actions.broadcast_max_s)']);
    const text = await upload(wang, 'evacuation', f('notes.txt'));
    expect([text.status, text.body.code, text.body.error]).toEqual([400, 'not_audio', 'body: not a WAV file (no RIFF WAVE header)']);
    const flac = await upload(wang, 'evacuation', f('song.flac'), { name: 'song.flac' });
    expect([flac.status, flac.body.error]).toEqual([400, "body: not a WAV file: it is FLAC; the box checks WAV only, so convert it first: sox 'song.flac' out.wav"]);
    const empty = await upload(wang, 'evacuation', Buffer.alloc(0));
    expect([empty.status, empty.body.code]).toEqual([400, 'not_audio']);
    const unknown = await upload(wang, 'launch', f('voice.wav'));
    expect([unknown.status, unknown.body.code]).toEqual([400, 'unknown_template']);
    expect(unknown.body.error).toMatch(/^params\.template: unknown broadcast template 'launch' \(templates: evacuation, rainstorm, /);
    const traversal = await upload(wang, '..%2Fx', f('voice.wav'));
    expect([traversal.status, traversal.body.code]).toEqual([400, 'unknown_template']);
    expect(readFileSync(join(folder, 'evacuation.wav')).equals(stored)).toBe(true);
    expect(recEvents().length).toBe(n);
    // No staged copy left behind.
    expect(readdirSync(folder).filter((x) => x.endsWith('.tmp'))).toEqual([]);
  });

  it('413 past the limit: at once for a Content-Length over it, and while streaming one without', async () => {
    const said = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(`${base}/api/recordings/evacuation`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { cookie: wang.cookie!, 'x-csrf-token': wang.csrf!, 'content-type': 'audio/wav', 'content-length': String(MAX_UPLOAD_BYTES + 1) } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write(readFileSync(f('voice.wav')));
    });
    expect(said.status).toBe(413);
    expect(JSON.parse(said.body).error).toMatch(/^body: too large; a recording may be at most 116 MB/);
    // Chunked, no length: cut off once past the limit (the box wrote it to a staging file, then deleted it).
    const streamed = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${base}/api/recordings/evacuation`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { cookie: wang.cookie!, 'x-csrf-token': wang.csrf!, 'content-type': 'audio/wav', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
      const chunk = Buffer.alloc(1 << 20);
      let sent = 0;
      const more = (): void => {
        while (sent <= MAX_UPLOAD_BYTES + chunk.length && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', more);
        }
        req.end();
      };
      more();
    });
    expect(streamed).toBe(413);
    expect(readdirSync(folder).filter((x) => x.endsWith('.tmp'))).toEqual([]);
  });

  it('no session 401, no CSRF 403, observer 403; the listing needs a session', async () => {
    const n = recEvents().length;
    expect((await upload(panelClient(base), 'evacuation', f('voice.wav'))).status).toBe(401);
    expect((await upload(wang, 'evacuation', f('voice.wav'), { csrf: false })).status).toBe(403);
    const viewer = panelClient(base);
    expect((await viewer.signIn('viewer')).status).toBe(200);
    const v = await upload(viewer, 'evacuation', f('voice.wav'));
    expect([v.status, v.body.error]).toEqual([403, 'the observer role may not do this (needs officer)']);
    expect((await fetch(`${base}/api/recordings`)).status).toBe(401);
    expect((await viewer.req('GET', '/api/recordings')).status).toBe(200);
    expect(recEvents().length).toBe(n);
  });
});
