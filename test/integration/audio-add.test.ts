/**
 * `shaobing audio add NAME FILE --config SITE.yaml` on files made by sox: what it stores (byte
 * for byte, where the renderer then plays it from), and each refusal with its words, leaving
 * what was stored before untouched.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecording } from '../../drivers/speaker/recording.ts';
import { main } from '../../gateway/cli.ts';
import { runCli } from '../helpers/cli-child.ts';

let dir: string;
let folder: string;
let site: string;
const f = (name: string): string => join(dir, name);
const sox = (...args: string[]): void => void execFileSync('sox', args, { stdio: ['ignore', 'ignore', 'pipe'] });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sb-audio-add-'));
  folder = join(dir, 'recordings');
  site = f('site.yaml');
  writeFileSync(site, `site: { id: demo, name: 示范社区 }\nsensors: [{ id: rg1, kind: rain }]\naudio: { folder: '${folder}' }\nbroadcasts: { templates: { fire: { audio: fire.wav }, landslide: { name_zh: 山体滑坡, name_en: landslide, text_zh: '山体滑坡危险,请立即撤离', text_en: 'Landslide danger: leave now' } } }\n`);
  // What a recording can be: a voice-like tone, quiet, stereo 24-bit, float; and what it cannot.
  sox('-n', '-r', '16000', '-c', '1', '-b', '16', f('voice.wav'), 'synth', '4', 'sine', '300-900', 'vol', '0.4');
  sox('-n', '-r', '44100', '-c', '2', '-b', '24', f('stereo.wav'), 'synth', '2', 'sine', '440', 'vol', '0.5');
  sox('-n', '-r', '22050', '-c', '1', '-e', 'floating-point', '-b', '32', f('float.wav'), 'synth', '2', 'pinknoise', 'vol', '0.1');
  sox('-n', '-r', '16000', '-c', '1', '-b', '16', f('quiet.wav'), 'synth', '2', 'sine', '440', 'vol', '0.008'); // about −45 dBFS: still sound
  sox('-n', '-r', '16000', '-c', '1', '-b', '16', f('silent.wav'), 'trim', '0', '3'); // sox dithers: noise at about −96 dBFS
  sox('-n', '-r', '16000', '-c', '1', '-b', '16', f('hum.wav'), 'synth', '3', 'sine', '440', 'vol', '0.001'); // about −63 dBFS
  sox('-n', '-r', '8000', '-c', '1', '-b', '16', f('long.wav'), 'synth', '301', 'sine', '300', 'vol', '0.2');
  sox('-n', '-r', '8000', '-c', '1', '-e', 'u-law', f('ulaw.wav'), 'synth', '1', 'sine', '440');
  sox('-n', '-r', '16000', '-c', '1', f('song.flac'), 'synth', '1', 'sine', '440');
  sox('-n', '-r', '16000', '-c', '1', f('song.ogg'), 'synth', '1', 'sine', '440');
  writeFileSync(f('notes.txt'), '这不是音频\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function add(...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['audio', 'add', ...args], { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err };
}

describe('shaobing audio add', () => {
  it('stores a good WAV under the template name, byte for byte, and says what it is (the config names none: it plays as stored)', async () => {
    const r = await add('evacuation', f('voice.wav'), '--config', site);
    expect(r).toEqual({
      code: 0,
      out: [
        expect.stringMatching(new RegExp(`^stored evacuation: ${folder}/evacuation\\.wav \\(PCM 16-bit, mono, 16000 Hz, 4\\.0 s, loudest 100 ms -\\d+\\.\\d dBFS, peak -\\d+\\.\\d dBFS\\)$`)),
      ],
      err: [],
    });
    expect(readFileSync(join(folder, 'evacuation.wav')).equals(readFileSync(f('voice.wav')))).toBe(true);
    // The speaker's renderer decodes it as a recording (sox), as it will when the template plays.
    expect((await decodeRecording(join(folder, 'evacuation.wav'))).length).toBeGreaterThan(22_050 * 2 * 3);
  });

  it('a template the config already plays from that file needs no config line', async () => {
    const r = await add('fire', f('float.wav'), '--config', site);
    expect([r.code, r.out.length, r.out[0]]).toEqual([0, 1, expect.stringMatching(/^stored fire: .*\(float 32-bit, mono, 22050 Hz, 2\.0 s/)]);
  });

  it("a site's own template takes a recording too", async () => {
    const r = await add('landslide', f('voice.wav'), '--config', site);
    expect([r.code, r.out.length, r.out[0]]).toEqual([0, 1, expect.stringMatching(/^stored landslide: .*landslide\.wav/)]);
  });

  it('a template whose config names another file: stored, and told the config line that plays it', async () => {
    const other = f('other-site.yaml');
    writeFileSync(other, readFileSync(site, 'utf8').replace('fire: { audio: fire.wav }', 'fire: { audio: fire-zh.wav }'));
    const r = await add('fire', f('voice.wav'), '--config', other);
    expect([r.code, r.out[1]]).toEqual([0, `the config plays ${folder}/fire-zh.wav for 'fire'; to play this one instead, set broadcasts: { templates: { fire: { audio: fire.wav } } } (audio.folder ${folder}) and restart the box`]);
  });

  it('replacing keeps the one before as <name>.previous.wav', async () => {
    const r = await add('evacuation', f('stereo.wav'), '--config', site);
    expect(r.out[0]).toMatch(/\(PCM 24-bit, stereo, 44100 Hz, 2\.0 s, .*\); the one before is .*evacuation\.previous\.wav$/);
    expect(readFileSync(join(folder, 'evacuation.previous.wav')).equals(readFileSync(f('voice.wav')))).toBe(true);
    expect(readFileSync(join(folder, 'evacuation.wav')).equals(readFileSync(f('stereo.wav')))).toBe(true);
  });

  it('a quiet recording is still sound', async () => {
    expect((await add('flood', f('quiet.wav'), '--config', site)).code).toBe(0);
  });

  it.each([
    ['silent.wav', 'evacuation', 'silent', /^it is silent: its loudest 100 ms is -9\d\.\d dBFS, below -50 dBFS \(was the microphone muted\?\)$/],
    ['hum.wav', 'evacuation', 'silent', /^it is silent: its loudest 100 ms is -6\d\.\d dBFS/],
    ['long.wav', 'evacuation', 'too_long', /^it is 5 min 1 s long; a recording may be at most 5 min/],
    ['ulaw.wav', 'evacuation', 'not_audio', /^it is compressed \(µ-law\); save it as PCM WAV$/],
    ['song.flac', 'evacuation', 'not_audio', /^not a WAV file: it is FLAC; the box checks WAV only, so convert it first: sox '.*song\.flac' out\.wav$/],
    ['song.ogg', 'evacuation', 'not_audio', /^not a WAV file: it is Ogg Vorbis; the box checks WAV only, so convert it first: sox /],
    ['notes.txt', 'evacuation', 'not_audio', /^not a WAV file \(no RIFF WAVE header\)$/],
    ['missing.wav', 'evacuation', 'unreadable', /^cannot read it: ENOENT$/],
    ['voice.wav', 'tornado', 'unknown_template', /^unknown broadcast template 'tornado' \(templates: evacuation, rainstorm, flood, fire, all_clear, test, landslide\)$/],
    ['voice.wav', '../evacuation', 'unknown_template', /^unknown broadcast template '\.\.\/evacuation'/],
  ])('refuses %s for %s (%s), and what was stored stays', async (file, name, code, message) => {
    const before = readdirSync(folder).map((n) => [n, readFileSync(join(folder, n)).length]);
    const r = await add(name, f(file), '--config', site);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    const [, gotCode, gotMessage] = /^.+?: refused \(([a-z_]+)\): (.*)$/.exec(r.err[0]!)!;
    expect(gotCode).toBe(code);
    expect(gotMessage).toMatch(message);
    expect(r.err[0]!.startsWith(`${f(file)}: refused`)).toBe(true);
    expect(readdirSync(folder).map((n) => [n, readFileSync(join(folder, n)).length])).toEqual(before);
  });

  it('usage: no --config, a missing argument, another subcommand', async () => {
    const noConfig = await add('evacuation', f('voice.wav'));
    expect([noConfig.code, noConfig.err.at(-1)]).toEqual([2, 'audio add needs --config SITE.yaml: the site config says where its audio folder is and which templates it has']);
    expect((await add('evacuation')).code).toBe(2);
    expect((await main(['audio', 'remove', 'x', 'y', '--config', site], { out: () => undefined, err: () => undefined }))).toBe(2);
  });

  it('a bad config is reported as check-config does, and nothing is stored', async () => {
    writeFileSync(f('bad.yaml'), 'site: { id: demo }\nsensors: []\n');
    const r = await add('test', f('voice.wav'), '--config', f('bad.yaml'));
    expect(r.code).toBe(1);
    expect(r.err[0]).toMatch(/bad\.yaml: site\.name: is required/);
    expect(existsSync(join(folder, 'test.wav'))).toBe(false);
  });

  it('as a command: bin/shaobing.mjs stores with exit 0 and refuses with exit 1', async () => {
    const ok = await runCli(['audio', 'add', 'all_clear', f('voice.wav'), '--config', site]);
    expect([ok.code, ok.out[0]]).toEqual([0, expect.stringMatching(/^stored all_clear: /)]);
    const no = await runCli(['audio', 'add', 'all_clear', f('silent.wav'), '--config', site]);
    expect([no.code, no.err[0]]).toEqual([1, expect.stringMatching(/silent\.wav: refused \(silent\): it is silent/)]);
    expect(readFileSync(join(folder, 'all_clear.wav')).equals(readFileSync(f('voice.wav')))).toBe(true);
    // No temporary file is left behind.
    expect(readdirSync(folder).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
