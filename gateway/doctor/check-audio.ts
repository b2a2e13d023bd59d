/**
 * Sound: every speaker the box plays itself (`actuators[].audio`, drivers/speaker/) can make its
 * sound. An ALSA speaker's device plays a short silent WAV (0.2 s of zeros, 16-bit mono 16 kHz)
 * through `aplay -D <device>`, the path broadcasts take, so nobody in the shelter hears the test;
 * it proves the device opens and takes samples, not that an amplifier is on. A file speaker's
 * folder must be writable (its optional `monitor` device is tried like an ALSA one, and only
 * informs: it plays "when the box has a sound card"). Then the text-to-speech command speaks a
 * Mandarin word into nothing, and every configured recording is there. Without a speaker of its
 * own the box sends broadcasts to MQTT speakers, which play on their own devices.
 * `--audio-device NAME` checks just that ALSA device instead.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DoctorContext } from './context.ts';
import { said, type CheckResult } from './types.ts';

/** A RIFF/WAVE file of `ms` of silence, PCM 16-bit mono at `rate` Hz. */
export function silentWav(ms = 200, rate = 16_000): Buffer {
  const samples = Math.round((rate * ms) / 1000);
  const data = samples * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28); // byte rate
  b.writeUInt16LE(2, 32); // block align
  b.writeUInt16LE(16, 34); // bits per sample
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  return b;
}

function run(cmd: string, args: string[]): Promise<{ code: number | string | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000, encoding: 'buffer', maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
      resolve({ code: e ? (e.killed ? 'timeout' : (e.code ?? 1)) : 0, stdout, stderr: stderr.toString() });
    });
  });
}

/** One silent play on `device`; `id` and `who` (whose device it is) name the check. */
async function playCheck(ctx: DoctorContext, id: string, who: { zh: string; en: string } | null, device: string): Promise<CheckResult> {
  const what = who ? said(`${who.zh}的声卡 ${device}`, `${who.en} sound device ${device}`) : said(`声卡 ${device}`, `sound device ${device}`);
  const dir = mkdtempSync(join(tmpdir(), 'sb-doctor-'));
  try {
    const file = join(dir, 'silence.wav');
    writeFileSync(file, silentWav());
    const t0 = performance.now();
    const r = await run(ctx.o.aplay, ['-q', '-D', device, file]);
    const ms = Math.round(performance.now() - t0);
    if (r.code === 0) return { id, status: 'pass', what, said: said(`能播放(静音测试 0.2 s,用时 ${ms} ms)`, `plays (a 0.2 s silent test, ${ms} ms)`), figures: { ms } };
    if (r.code === 'ENOENT') return { id, status: 'fail', what, said: said('没有 aplay', 'aplay is not installed'), fix: said('apt-get install alsa-utils', 'apt-get install alsa-utils') };
    if (r.code === 'timeout') return { id, status: 'fail', what, said: said('aplay 10 s 没有结束', 'aplay did not finish within 10 s'), fix: said('声卡卡住了:重插 USB 声卡或重启', 'the device hangs: replug the USB sound card or reboot') };
    // aplay's own line says what failed ("aplay: main:850: audio open error: …"); ALSA's library lines before it say why.
    const all = r.stderr;
    const lines = all.split('\n').map((l) => l.trim()).filter(Boolean);
    const first = (lines.find((l) => l.startsWith('aplay:')) ?? lines[0] ?? String(r.code)).replace(/^aplay: \w+:\d+: /, '');
    if (/busy/i.test(all)) {
      return ctx.box
        ? { id, status: 'skipped', what, said: said('正被占用(哨兵可能在广播)', 'busy (the box may be speaking now)'), fix: said('稍后再运行 doctor', 'run the doctor again in a moment') }
        : { id, status: 'fail', what, said: said('被另一个程序占用', 'held by another program'), fix: said('找出占用者:fuser -v /dev/snd/*', 'find who holds it: fuser -v /dev/snd/*') };
    }
    const fix = /no soundcards|cannot find card|No such device/i.test(all)
      ? said('没有声卡:检查 USB 声卡或功放板是否插好(aplay -l 应列出它)', 'no sound card: check the USB sound card or amplifier HAT is fitted (aplay -l must list it)')
      : /unknown pcm/i.test(all)
        ? said(`没有叫 ${device} 的设备:用 aplay -L 看可用名称,改配置`, `no device named ${device}: list the names with aplay -L and fix the config`)
        : said('用 aplay -l 和 alsamixer 检查声卡', 'check the card with aplay -l and alsamixer');
    const why = /Unknown PCM \S+|cannot find card '[^']*'/.exec(all)?.[0];
    const text = why ? `${first} (${why})` : first;
    return { id, status: 'fail', what, said: said(`不能播放:${text}`, `does not play: ${text}`), fix };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The folder (or, if it is not there yet, the nearest one above it) takes new files. */
function writableFolder(folder: string): boolean {
  let dir = folder;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function ttsCheck(ctx: DoctorContext): Promise<CheckResult> {
  const { command, voiceZh } = ctx.config.audio.tts;
  const what = said(`语音合成 ${command}(${voiceZh})`, `text-to-speech ${command} (${voiceZh})`);
  const r = await run(command, ['-v', voiceZh, '--stdout', '测试']);
  if (r.code === 0 && r.stdout.length > 44) return { id: 'audio:tts', status: 'pass', what, said: said('能说普通话', 'speaks Mandarin'), figures: { wav_bytes: r.stdout.length } };
  if (r.code === 'ENOENT') return { id: 'audio:tts', status: 'fail', what, said: said(`没有 ${command}`, `${command} is not installed`), fix: said('apt-get install espeak-ng', 'apt-get install espeak-ng') };
  const first = r.stderr.split('\n').find((l) => l.trim()) ?? `exit ${r.code}`;
  return { id: 'audio:tts', status: 'fail', what, said: said(`失败:${first}`, `failed: ${first}`), fix: said(`用 ${command} --voices=cmn 看有哪些普通话语音,改 audio.tts`, `list the Mandarin voices with ${command} --voices=cmn and fix audio.tts`) };
}

export async function audioChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  if (ctx.o.audioDevice) return [await playCheck(ctx, 'audio', null, ctx.o.audioDevice)];
  const speakers = ctx.config.actuators.filter((a) => a.kind === 'speaker' && a.audio);
  if (!speakers.length) {
    return [{ id: 'audio', status: 'info', what: said('扬声器', 'speakers'), said: said('哨兵自己不放声(广播发给 MQTT 扬声器,它们用自己的声卡)', 'the box plays no sound itself (broadcasts go to MQTT speakers, which play on their own devices)') }];
  }
  const out: CheckResult[] = [];
  for (const s of speakers) {
    const a = s.audio!;
    if (a.sink === 'alsa') out.push(await playCheck(ctx, `audio:${s.id}`, { zh: `扬声器 ${s.id}`, en: `speaker ${s.id}'s` }, a.device));
    else {
      const what = said(`扬声器 ${s.id} 的文件夹 ${a.folder}`, `speaker ${s.id}'s folder ${a.folder}`);
      out.push(
        writableFolder(a.folder)
          ? { id: `audio:${s.id}`, status: 'pass', what, said: said('可写(每次广播存一个 WAV)', 'writable (one WAV per broadcast)') }
          : { id: `audio:${s.id}`, status: 'fail', what, said: said('不可写', 'not writable'), fix: said('检查文件夹的属主和权限', "check the folder's owner and permissions") },
      );
      if (a.monitor) {
        const m = await playCheck(ctx, `audio:${s.id}:monitor`, { zh: `扬声器 ${s.id} 监听`, en: `speaker ${s.id}'s monitor` }, a.monitor);
        // A monitor plays "when the box has a sound card": without one it is not a fault.
        out.push(m.status === 'fail' ? { ...m, status: 'info', fix: undefined } : m);
      }
    }
  }
  out.push(await ttsCheck(ctx));
  const recordings = Object.entries(ctx.config.audio.recordings).flatMap(([id, r]) => [r.zh, ...(r.en ? [r.en] : [])].map((f) => ({ id, f })));
  if (recordings.length) {
    const missing = recordings.filter((r) => !existsSync(r.f));
    const what = said('广播录音', 'broadcast recordings');
    out.push(
      missing.length
        ? { id: 'audio:recordings', status: 'fail', what, said: said(`缺 ${missing.length} 个:${missing.map((m) => m.f).join(', ')}`, `${missing.length} missing: ${missing.map((m) => m.f).join(', ')}`), fix: said('把录音文件放到 audio.folder 里,或改配置', 'put the recordings in audio.folder, or fix the config') }
        : { id: 'audio:recordings', status: 'pass', what, said: said(`${recordings.length} 个都在`, `all ${recordings.length} present`) },
    );
  }
  return out;
}
