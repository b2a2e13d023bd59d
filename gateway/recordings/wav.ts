/**
 * Reads a WAV file's header and measures its samples, in TypeScript, so the box needs no tool
 * to check a recording (`shaobing audio add`). Microsoft's RIFF WAVE: a `RIFF` header, then
 * chunks (`id`, 32-bit little-endian size, body padded to an even length), among them `fmt `
 * (format, channels, rate, block align, bits) and `data`. Integer PCM of 8 (unsigned), 16, 24
 * or 32 bits and IEEE float of 32 or 64 bits, plain or as WAVE_FORMAT_EXTENSIBLE; compressed
 * formats (ADPCM, A-law, µ-law, MP3 in WAV) are named and refused.
 *
 * Samples are read in chunks from the file, never all at once: a five-minute 48 kHz stereo file
 * is 55 MB, and a bad header may claim gigabytes.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export class WavError extends Error {
  constructor(
    readonly code: 'not_wav' | 'bad_wav' | 'unsupported_format',
    message: string,
  ) {
    super(message);
    this.name = 'WavError';
  }
}

export interface WavFormat {
  /** `pcm` (integer) or `float`. */
  encoding: 'pcm' | 'float';
  bits: number;
  channels: number;
  rate: number;
  blockAlign: number;
  /** Where the samples start and how many bytes of them there are (whole frames). */
  dataOffset: number;
  dataBytes: number;
  durationS: number;
  /** The data chunk claims more than the file holds (a recorder stopped mid-write): only what is there counts. */
  truncated: boolean;
}

/** Compressed WAV formats people meet, by their format tag (RFC 2361), for the refusal. */
const COMPRESSED: Record<number, string> = { 0x0002: 'Microsoft ADPCM', 0x0006: 'A-law', 0x0007: 'µ-law', 0x0011: 'IMA ADPCM', 0x0031: 'GSM 6.10', 0x0050: 'MPEG', 0x0055: 'MPEG layer 3 (MP3)' };

/** What the first bytes of a file that is not a WAV say it is, for a useful refusal. */
export function sniff(head: Buffer): string | null {
  const s = (a: number, b: number): string => head.toString('latin1', a, b);
  if (s(0, 4) === 'OggS') return head.includes('OpusHead') ? 'Opus (Ogg)' : head.includes('vorbis') ? 'Ogg Vorbis' : 'Ogg';
  if (s(0, 4) === 'fLaC') return 'FLAC';
  if (s(0, 3) === 'ID3' || (head[0] === 0xff && head.length > 1 && (head[1]! & 0xe0) === 0xe0)) return 'MP3';
  if (s(4, 8) === 'ftyp') return 'MP4/M4A (AAC)';
  if (s(0, 5) === '#!AMR' || s(0, 9) === '#!SILK_V3' || s(1, 10) === '#!SILK_V3') return 'AMR/SILK (a phone or WeChat voice message)';
  if (s(0, 4) === 'RIFX') return 'big-endian WAV (RIFX)';
  if (s(0, 4) === 'RF64') return 'RF64 (a WAV over 4 GB)';
  if (s(0, 4) === 'FORM') return 'AIFF';
  return null;
}

const GUID_TAIL = '000000001000800000aa00389b71';

/** Reads `length` bytes at `offset` (fewer at the end of the file). */
export type ReadAt = (offset: number, length: number) => Buffer;

export function bufferReader(buf: Buffer): ReadAt {
  return (offset, length) => buf.subarray(offset, offset + length);
}

/** Chunks walked at most: a file of a million empty chunks is not a WAV worth the wait. */
const MAX_CHUNKS = 1000;

/** Parses the header of the WAV that `read` reads (`fileSize` bytes in all), chunk by chunk wherever they are. */
export function parseWavHeader(read: ReadAt, fileSize: number): WavFormat {
  const head = read(0, 64);
  if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') {
    const what = sniff(head);
    throw new WavError('not_wav', what ? `not a WAV file: it is ${what}` : 'not a WAV file (no RIFF WAVE header)');
  }
  let fmt: Omit<WavFormat, 'dataOffset' | 'dataBytes' | 'durationS' | 'truncated'> | null = null;
  let at = 12;
  for (let chunks = 0; at + 8 <= fileSize && chunks < MAX_CHUNKS; chunks++) {
    const h = read(at, 8);
    if (h.length < 8) break;
    const id = h.toString('latin1', 0, 4);
    const size = h.readUInt32LE(4);
    const body = at + 8;
    if (id === 'fmt ') {
      const buf = read(body, Math.min(size, 64));
      if (size < 16 || buf.length < 16) throw new WavError('bad_wav', `its fmt chunk is ${size} bytes; a WAV's is at least 16`);
      let tag = buf.readUInt16LE(0);
      const channels = buf.readUInt16LE(2);
      const rate = buf.readUInt32LE(4);
      const blockAlign = buf.readUInt16LE(12);
      const bits = buf.readUInt16LE(14);
      if (tag === 0xfffe) {
        // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the SubFormat GUID.
        if (size < 40 || buf.length < 40) throw new WavError('bad_wav', 'its extensible fmt chunk is too short');
        if (buf.toString('hex', 26, 40) !== GUID_TAIL) throw new WavError('unsupported_format', 'its extensible format is not PCM or float');
        tag = buf.readUInt16LE(24);
      }
      if (tag !== 1 && tag !== 3) throw new WavError('unsupported_format', `it is compressed (${COMPRESSED[tag] ?? `format 0x${tag.toString(16).padStart(4, '0')}`}); save it as PCM WAV`);
      const encoding = tag === 1 ? 'pcm' : 'float';
      if (encoding === 'pcm' && ![8, 16, 24, 32].includes(bits)) throw new WavError('unsupported_format', `it has ${bits}-bit samples; PCM of 8, 16, 24 or 32 bits is taken`);
      if (encoding === 'float' && bits !== 32 && bits !== 64) throw new WavError('unsupported_format', `it has ${bits}-bit float samples; 32 or 64 bits is taken`);
      if (channels < 1 || channels > 8) throw new WavError('bad_wav', `it says it has ${channels} channels`);
      if (rate < 8000 || rate > 192_000) throw new WavError('unsupported_format', `its sample rate is ${rate} Hz; 8,000 to 192,000 Hz is taken`);
      if (blockAlign !== (channels * bits) / 8) throw new WavError('bad_wav', `its block align ${blockAlign} does not match ${channels} channel(s) of ${bits} bits`);
      fmt = { encoding, bits, channels, rate, blockAlign };
    } else if (id === 'data') {
      if (!fmt) throw new WavError('bad_wav', 'its data comes before its fmt chunk');
      const there = Math.max(0, fileSize - body);
      // 0 or 0xFFFFFFFF: a recorder that never went back to write the size; else the size, unless the file is shorter.
      const claimed = size === 0 || size === 0xffffffff ? there : size;
      const bytes = Math.min(claimed, there);
      const whole = bytes - (bytes % fmt.blockAlign);
      return { ...fmt, dataOffset: body, dataBytes: whole, durationS: whole / fmt.blockAlign / fmt.rate, truncated: claimed > there };
    }
    at = body + size + (size % 2);
  }
  throw new WavError('bad_wav', fmt ? 'it has no data chunk' : 'it has no fmt chunk');
}

export interface WavLevels {
  /** RMS of the whole file, dBFS (−∞ for digital silence). */
  rmsDb: number;
  /** The loudest 100 ms window's RMS, dBFS, with its own DC removed (a constant offset is not sound). */
  loudestDb: number;
  /** The largest sample, dBFS. */
  peakDb: number;
}

const db = (x: number): number => (x > 0 ? 20 * Math.log10(x) : Number.NEGATIVE_INFINITY);

/** A function from a sample's bytes at `i` to a value in [-1, 1]. */
function sampleReader(f: WavFormat): (b: Buffer, i: number) => number {
  if (f.encoding === 'float') return f.bits === 32 ? (b, i) => b.readFloatLE(i) : (b, i) => b.readDoubleLE(i);
  switch (f.bits) {
    case 8:
      return (b, i) => (b[i]! - 128) / 128;
    case 16:
      return (b, i) => b.readInt16LE(i) / 32768;
    case 24:
      return (b, i) => b.readIntLE(i, 3) / 8_388_608;
    default:
      return (b, i) => b.readInt32LE(i) / 2_147_483_648;
  }
}

/** Measures the samples of an open file, chunk by chunk. */
export function measureLevels(fd: number, f: WavFormat): WavLevels {
  const read = sampleReader(f);
  const bytesPer = f.bits / 8;
  const windowFrames = Math.max(1, Math.round(f.rate / 10));
  const chunkFrames = windowFrames * 10;
  const buf = Buffer.alloc(chunkFrames * f.blockAlign);
  let sumSq = 0;
  let n = 0;
  let peak = 0;
  let loudest = 0;
  // The current window: sum and sum of squares (its DC removed at the end: var = E[x²] − E[x]²).
  let wSum = 0;
  let wSq = 0;
  let wN = 0;
  const closeWindow = (): void => {
    if (wN === 0) return;
    const mean = wSum / wN;
    loudest = Math.max(loudest, Math.sqrt(Math.max(0, wSq / wN - mean * mean)));
    wSum = wSq = wN = 0;
  };
  let pos = 0;
  while (pos < f.dataBytes) {
    const want = Math.min(buf.length, f.dataBytes - pos);
    const got = readSync(fd, buf, 0, want, f.dataOffset + pos);
    if (got <= 0) break;
    const frames = Math.floor(got / f.blockAlign);
    for (let fr = 0; fr < frames; fr++) {
      for (let c = 0; c < f.channels; c++) {
        const x = read(buf, fr * f.blockAlign + c * bytesPer);
        const v = Number.isFinite(x) ? x : 0;
        sumSq += v * v;
        n++;
        const a = Math.abs(v);
        if (a > peak) peak = a;
        wSum += v;
        wSq += v * v;
        wN++;
      }
      if (wN >= windowFrames * f.channels) closeWindow();
    }
    pos += frames * f.blockAlign;
    if (frames === 0) break;
  }
  closeWindow();
  return { rmsDb: db(n ? Math.sqrt(sumSq / n) : 0), loudestDb: db(loudest), peakDb: db(peak) };
}

export interface WavInfo extends WavFormat, WavLevels {
  fileBytes: number;
}

/** Reads a WAV file's header only (its format and length; no samples). */
export function readWavHeader(path: string): WavFormat & { fileBytes: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    return { ...parseWavHeader(fileReader(fd, size), size), fileBytes: size };
  } finally {
    closeSync(fd);
  }
}

function fileReader(fd: number, size: number): ReadAt {
  return (offset, length) => {
    const b = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
    return b.subarray(0, b.length ? readSync(fd, b, 0, b.length, offset) : 0);
  };
}

/** Reads and measures a WAV file; `maxDurationS`: longer files are refused before their samples are read. */
export function readWav(path: string, maxDurationS = Number.POSITIVE_INFINITY): WavInfo & { tooLong: boolean } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const f = parseWavHeader(fileReader(fd, size), size);
    if (f.durationS > maxDurationS) return { ...f, rmsDb: Number.NaN, loudestDb: Number.NaN, peakDb: Number.NaN, fileBytes: size, tooLong: true };
    return { ...f, ...measureLevels(fd, f), fileBytes: size, tooLong: false };
  } finally {
    closeSync(fd);
  }
}
