/**
 * A site's recorded announcement, decoded to the box format (pcm.ts) with sox (Debian package
 * sox: any WAV, FLAC, Ogg Vorbis, at any rate, stereo mixed to mono) and, for Opus, opusdec
 * first (Debian package opus-tools: Debian's sox has no Opus support). Loudness is normalised
 * to -3 dBFS (sox `gain -n -3`) so a quiet recording is not lost after a loud chime. Decoded
 * files are kept in memory by path, size and mtime: the next broadcast of a template plays at once.
 */
import { stat } from 'node:fs/promises';
import { SpeakerError } from './errors.ts';
import { BYTES_PER_SECOND, RATE } from './pcm.ts';
import { run, RunError } from './proc.ts';

const TIMEOUT_MS = 30_000;
/** A recording longer than 10 minutes is not an announcement. */
const MAX_BYTES = 600 * BYTES_PER_SECOND;
/**
 * Three minutes of recordings at most stay decoded (8 MB; the oldest go first): six templates of
 * a quarter minute each fit, and the box's memory budget (120 MB RSS) has room for no more.
 */
const CACHE_BYTES = 180 * BYTES_PER_SECOND;

const SOX_OUT = ['-t', 'raw', '-r', String(RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', '-L', '-', 'gain', '-n', '-3'];

const cache = new Map<string, Buffer>();
let cachedBytes = 0;

function remember(key: string, pcm: Buffer): void {
  cache.set(key, pcm);
  cachedBytes += pcm.length;
  for (const [k, v] of cache) {
    if (cachedBytes <= CACHE_BYTES) break;
    cache.delete(k);
    cachedBytes -= v.length;
  }
}

export async function decodeRecording(file: string): Promise<Buffer> {
  let key: string;
  try {
    const s = await stat(file);
    key = `${file}\0${s.size}\0${s.mtimeMs}`;
  } catch (err) {
    throw new SpeakerError('recording_failed', `recording ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? err}`, { file, errno: (err as NodeJS.ErrnoException).code });
  }
  const hit = cache.get(key);
  if (hit) return hit;
  try {
    let pcm: Buffer;
    if (/\.opus$/i.test(file)) {
      const wav = (await run('opusdec', ['--quiet', '--force-wav', file, '-'], { timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES * 5 })).stdout;
      pcm = (await run('sox', ['-t', 'wav', '-', ...SOX_OUT], { input: wav, timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES })).stdout;
    } else pcm = (await run('sox', [file, ...SOX_OUT], { timeoutMs: TIMEOUT_MS, maxBytes: MAX_BYTES })).stdout;
    if (pcm.length < BYTES_PER_SECOND / 20) throw new SpeakerError('recording_failed', `recording ${file} is empty`, { file });
    remember(key, pcm);
    return pcm;
  } catch (err) {
    if (err instanceof SpeakerError) throw err;
    throw new SpeakerError('recording_failed', `recording ${file} could not be decoded: ${(err as Error).message}`, { file, ...(err instanceof RunError ? err.detail : {}) });
  }
}
