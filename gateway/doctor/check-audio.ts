/**
 * The speaker's sound device plays: a short silent WAV (0.2 s of zeros, 16-bit mono 16 kHz)
 * through `aplay -D <device>`, the ALSA path broadcasts take, so nobody in the shelter hears
 * the test. It proves the device opens and takes samples; it cannot prove an amplifier is on.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

function run(cmd: string, args: string[]): Promise<{ code: number | string | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, _out, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
      resolve({ code: e ? (e.killed ? 'timeout' : (e.code ?? 1)) : 0, stderr: String(stderr) });
    });
  });
}

export async function audioCheck(ctx: DoctorContext): Promise<CheckResult> {
  const device = ctx.o.audioDevice ?? 'default';
  const what = said(`扬声器声卡 ${device}`, `speaker sound device ${device}`);
  const dir = mkdtempSync(join(tmpdir(), 'sb-doctor-'));
  try {
    const file = join(dir, 'silence.wav');
    writeFileSync(file, silentWav());
    const t0 = performance.now();
    const r = await run(ctx.o.aplay, ['-q', '-D', device, file]);
    const ms = Math.round(performance.now() - t0);
    if (r.code === 0) return { id: 'audio', status: 'pass', what, said: said(`能播放(静音测试 0.2 s,用时 ${ms} ms)`, `plays (a 0.2 s silent test, ${ms} ms)`), figures: { ms } };
    // aplay's own line says what failed ("aplay: main:850: audio open error: …"); ALSA's library lines before it say where.
    const lines = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    const first = (lines.find((l) => l.startsWith('aplay:')) ?? lines[0] ?? String(r.code)).replace(/^aplay: [\w]+:\d+: /, '');
    if (r.code === 'ENOENT') return { id: 'audio', status: 'fail', what, said: said('没有 aplay', 'aplay is not installed'), fix: said('apt-get install alsa-utils', 'apt-get install alsa-utils') };
    if (r.code === 'timeout') return { id: 'audio', status: 'fail', what, said: said('aplay 10 s 没有结束', 'aplay did not finish within 10 s'), fix: said('声卡卡住了:重插 USB 声卡或重启', 'the device hangs: replug the USB sound card or reboot') };
    const all = r.stderr;
    if (/busy/i.test(all)) {
      return ctx.box
        ? { id: 'audio', status: 'skipped', what, said: said('正被占用(哨兵可能在广播)', 'busy (the box may be speaking now)'), fix: said('稍后再运行 doctor', 'run the doctor again in a moment') }
        : { id: 'audio', status: 'fail', what, said: said('被另一个程序占用', 'held by another program'), fix: said('找出占用者:fuser -v /dev/snd/*', 'find who holds it: fuser -v /dev/snd/*') };
    }
    // ALSA's own lines say why: no card at all, or no device of that name.
    const fix = /no soundcards|cannot find card|No such device/i.test(all)
      ? said('没有声卡:检查 USB 声卡或功放板是否插好(aplay -l 应列出它)', 'no sound card: check the USB sound card or amplifier HAT is fitted (aplay -l must list it)')
      : /unknown pcm/i.test(all)
        ? said(`没有叫 ${device} 的设备:用 aplay -L 看可用名称,改配置`, `no device named ${device}: list the names with aplay -L and fix the config`)
        : said('用 aplay -l 和 alsamixer 检查声卡', 'check the card with aplay -l and alsamixer');
    const why = /Unknown PCM \S+|cannot find card '[^']*'/.exec(all)?.[0];
    const text = why ? `${first} (${why})` : first;
    return { id: 'audio', status: 'fail', what, said: said(`不能播放:${text}`, `does not play: ${text}`), fix };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
