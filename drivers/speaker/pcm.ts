/**
 * The one PCM format every part of a broadcast is made in before it is played or written:
 * 22,050 Hz, mono, 16-bit signed little-endian. espeak-ng speaks at 22,050 Hz, so speech needs
 * no resampling; the chime is synthesised at that rate; recordings are converted to it by sox.
 */
import { SpeakerError } from './errors.ts';

export const RATE = 22_050;
export const CHANNELS = 1;
export const BYTES_PER_SAMPLE = 2;
export const BYTES_PER_SECOND = RATE * CHANNELS * BYTES_PER_SAMPLE;

export function durationS(pcm: Buffer | number): number {
  return (typeof pcm === 'number' ? pcm : pcm.length) / BYTES_PER_SECOND;
}

/** Whole samples for `ms` (never half a sample: the stream stays aligned). */
export function bytesFor(ms: number): number {
  return Math.max(0, Math.round((ms / 1000) * RATE)) * BYTES_PER_SAMPLE * CHANNELS;
}

export function silence(ms: number): Buffer {
  return Buffer.alloc(bytesFor(ms));
}

/** A canonical 44-byte WAV header (RIFF, fmt PCM, data) for `dataBytes` of the box's format. */
export function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(CHANNELS, 22);
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(BYTES_PER_SECOND, 28);
  h.writeUInt16LE(CHANNELS * BYTES_PER_SAMPLE, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

export interface Wav {
  rate: number;
  channels: number;
  bits: number;
  data: Buffer;
}

/**
 * Reads a PCM WAV. The data chunk's length may be a placeholder (espeak-ng `--stdout` writes
 * 0x7ffff000, since it streams): the data then runs to the end of the buffer.
 */
export function parseWav(buf: Buffer): Wav {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new SpeakerError('bad_audio', 'not a WAV file');
  let at = 12;
  let fmt: Omit<Wav, 'data'> | null = null;
  while (at + 8 <= buf.length) {
    const id = buf.toString('ascii', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (buf.readUInt16LE(body) !== 1) throw new SpeakerError('bad_audio', 'WAV is not integer PCM');
      fmt = { channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new SpeakerError('bad_audio', 'WAV data before its fmt chunk');
      const end = Math.min(buf.length, body + size);
      // An odd trailing byte of a stream cut mid-sample is dropped.
      const usable = end - body - ((end - body) % (fmt.channels * (fmt.bits / 8)));
      return { ...fmt, data: buf.subarray(body, body + usable) };
    }
    at = body + size + (size % 2);
  }
  throw new SpeakerError('bad_audio', 'WAV has no data chunk');
}

/** Root mean square of 16-bit samples, 0…1 of full scale. */
export function rms(pcm: Buffer): number {
  const n = Math.floor(pcm.length / 2);
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = pcm.readInt16LE(i * 2) / 32768;
    sum += v * v;
  }
  return Math.sqrt(sum / n);
}
