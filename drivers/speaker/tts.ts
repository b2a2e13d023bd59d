/**
 * Offline text-to-speech with espeak-ng (Debian package espeak-ng): the normalised text on
 * stdin, a WAV on stdout, 22,050 Hz mono 16-bit, the box's own format (pcm.ts).
 *
 * The Mandarin voice is `cmn-latn-pinyin`, not `cmn`: in Debian 12's espeak-ng 1.51 the `cmn`
 * voice ("latin as English") reads most characters from its dictionary's pinyin as English
 * words, tone number included (`espeak-ng -v cmn -X 百` → "bai" + "three"); `cmn-latn-pinyin`
 * reads the same entries as pinyin (百 → bai3). Latin words in a Mandarin text go to the English
 * voice instead (script.ts voiceRuns).
 */
import type { AudioConfig } from '../../gateway/config/types.ts';
import { SpeakerError } from './errors.ts';
import { BYTES_PER_SECOND, CHANNELS, parseWav, RATE } from './pcm.ts';
import { run, RunError } from './proc.ts';
import type { Voice } from './script.ts';

export type TtsConfig = AudioConfig['tts'];

/** A sentence takes espeak-ng tens of milliseconds; this only catches a hung program. */
const TIMEOUT_MS = 20_000;
/** Ten minutes of speech: far beyond any broadcast (broadcast_max_s is at most an hour of all parts). */
const MAX_BYTES = 600 * BYTES_PER_SECOND;

/** Speaks `text` in `voice`; the PCM in the box format. Rejects with `tts_failed`. */
export async function speak(text: string, voice: Voice, cfg: TtsConfig): Promise<Buffer> {
  const name = voice === 'zh' ? cfg.voiceZh : cfg.voiceEn;
  const args = ['-v', name, '-s', String(cfg.speedWpm), '-b', '1', '--stdin', '--stdout'];
  let wav: Buffer;
  try {
    wav = (await run(cfg.command, args, { input: text.replace(/\s+/g, ' '), timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES })).stdout;
  } catch (err) {
    const detail = err instanceof RunError ? err.detail : {};
    throw new SpeakerError('tts_failed', `text-to-speech failed: ${(err as Error).message}`, { ...detail, voice: name });
  }
  let pcm: Buffer;
  try {
    const w = parseWav(wav);
    if (w.rate !== RATE || w.channels !== CHANNELS || w.bits !== 16) throw new SpeakerError('bad_audio', `espeak-ng spoke ${w.rate} Hz, ${w.channels} ch, ${w.bits} bit`);
    pcm = w.data;
  } catch (err) {
    throw new SpeakerError('tts_failed', `text-to-speech gave no usable audio: ${(err as Error).message}`, { command: cfg.command, voice: name });
  }
  // A voice that exists but says nothing (an empty dictionary) is a failure too: nobody would hear the message.
  if (pcm.length < BYTES_PER_SECOND / 20 && text.trim()) throw new SpeakerError('tts_failed', 'text-to-speech gave no audio', { command: cfg.command, voice: name });
  return pcm;
}
