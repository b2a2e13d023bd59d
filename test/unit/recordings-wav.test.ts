/** gateway/recordings/wav.ts on WAVs built byte by byte: every header the parser takes or refuses, and the levels. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferReader, parseWavHeader, readWav, sniff, WavError } from '../../gateway/recordings/wav.ts';

interface Fmt {
  tag?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  blockAlign?: number;
  extensible?: number;
}

function fmtChunk(f: Fmt = {}): Buffer {
  const channels = f.channels ?? 1;
  const bits = f.bits ?? 16;
  const rate = f.rate ?? 16000;
  const ext = f.extensible !== undefined;
  const b = Buffer.alloc(ext ? 40 : 16);
  b.writeUInt16LE(ext ? 0xfffe : (f.tag ?? 1), 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE((rate * channels * bits) / 8, 8);
  b.writeUInt16LE(f.blockAlign ?? (channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  if (ext) {
    b.writeUInt16LE(22, 16);
    b.writeUInt16LE(bits, 18);
    b.writeUInt32LE(0, 20);
    b.writeUInt16LE(f.extensible!, 24);
    Buffer.from('000000001000800000aa00389b71', 'hex').copy(b, 26);
  }
  return b;
}

function chunk(id: string, body: Buffer, size = body.length): Buffer {
  const h = Buffer.alloc(8);
  h.write(id, 0, 'latin1');
  h.writeUInt32LE(size, 4);
  return Buffer.concat([h, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function wav(chunks: Buffer[]): Buffer {
  const body = Buffer.concat(chunks);
  const h = Buffer.alloc(12);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(4 + body.length, 4);
  h.write('WAVE', 8, 'latin1');
  return Buffer.concat([h, body]);
}

/** 16-bit mono samples. */
function pcm16(samples: number[]): Buffer {
  const b = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(s * 32767))), i * 2));
  return b;
}

const sine = (n: number, amp: number, rate = 16000): number[] => Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * 440 * i) / rate));
const parse = (b: Buffer) => parseWavHeader(bufferReader(b), b.length);

const dir = mkdtempSync(join(tmpdir(), 'sb-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function onDisk(b: Buffer): string {
  const p = join(dir, `f${++files}.wav`);
  writeFileSync(p, b);
  return p;
}

describe('the header', () => {
  it('a plain 16-bit mono PCM WAV', () => {
    const b = wav([chunk('fmt ', fmtChunk()), chunk('data', pcm16(sine(16000, 0.5)))]);
    expect(parse(b)).toEqual({ encoding: 'pcm', bits: 16, channels: 1, rate: 16000, blockAlign: 2, dataOffset: 44, dataBytes: 32000, durationS: 1, truncated: false });
  });

  it('walks past other chunks (LIST, bext, odd sizes padded) wherever they are, however large', () => {
    const big = Buffer.alloc(100_001, 7); // odd: padded to an even length
    const b = wav([chunk('LIST', Buffer.from('INFOabc')), chunk('fmt ', fmtChunk()), chunk('bext', big), chunk('data', pcm16(sine(800, 0.5)))]);
    expect(parse(b)).toMatchObject({ dataBytes: 1600, dataOffset: 12 + 16 + 24 + 8 + 100_002 + 8 });
  });

  it.each([
    [{ bits: 8 }, 'pcm', 8],
    [{ bits: 24, channels: 2, rate: 48000 }, 'pcm', 24],
    [{ bits: 32 }, 'pcm', 32],
    [{ tag: 3, bits: 32 }, 'float', 32],
    [{ tag: 3, bits: 64 }, 'float', 64],
    [{ extensible: 1, bits: 24, channels: 2 }, 'pcm', 24],
    [{ extensible: 3, bits: 32 }, 'float', 32],
  ])('takes %j', (f, encoding, bits) => {
    expect(parse(wav([chunk('fmt ', fmtChunk(f)), chunk('data', Buffer.alloc(96))]))).toMatchObject({ encoding, bits });
  });

  it('a data size of 0 or 0xFFFFFFFF (a recorder that never wrote it) is the rest of the file', () => {
    const data = pcm16(sine(1600, 0.5));
    for (const size of [0, 0xffffffff]) {
      const h = chunk('data', Buffer.alloc(0), size);
      expect(parse(Buffer.concat([wav([chunk('fmt ', fmtChunk())]), h, data]))).toMatchObject({ dataBytes: 3200, truncated: false });
    }
  });

  it('a data chunk claiming more than the file holds counts what is there, in whole frames, and says so', () => {
    const h = chunk('data', Buffer.alloc(0), 100_000);
    const b = Buffer.concat([wav([chunk('fmt ', fmtChunk({ channels: 2 }))]), h, Buffer.alloc(1001)]);
    expect(parse(b)).toMatchObject({ dataBytes: 1000, truncated: true, durationS: 1000 / 4 / 16000 });
  });

  it.each([
    [Buffer.from('hello, world'), 'not_wav', 'not a WAV file (no RIFF WAVE header)'],
    [Buffer.alloc(4), 'not_wav', 'not a WAV file (no RIFF WAVE header)'],
    [wav([chunk('data', Buffer.alloc(8)), chunk('fmt ', fmtChunk())]), 'bad_wav', 'its data comes before its fmt chunk'],
    [wav([chunk('fmt ', fmtChunk())]), 'bad_wav', 'it has no data chunk'],
    [wav([chunk('LIST', Buffer.alloc(4))]), 'bad_wav', 'it has no fmt chunk'],
    [wav([chunk('fmt ', Buffer.alloc(14))]), 'bad_wav', "its fmt chunk is 14 bytes; a WAV's is at least 16"],
    [wav([chunk('fmt ', fmtChunk({ tag: 0x55 }))]), 'unsupported_format', 'it is compressed (MPEG layer 3 (MP3)); save it as PCM WAV'],
    [wav([chunk('fmt ', fmtChunk({ tag: 0x11 }))]), 'unsupported_format', 'it is compressed (IMA ADPCM); save it as PCM WAV'],
    [wav([chunk('fmt ', fmtChunk({ tag: 0x1234 }))]), 'unsupported_format', 'it is compressed (format 0x1234); save it as PCM WAV'],
    [wav([chunk('fmt ', fmtChunk({ extensible: 7 }))]), 'unsupported_format', 'it is compressed (µ-law); save it as PCM WAV'],
    [wav([chunk('fmt ', fmtChunk({ bits: 12, blockAlign: 2 }))]), 'unsupported_format', 'it has 12-bit samples; PCM of 8, 16, 24 or 32 bits is taken'],
    [wav([chunk('fmt ', fmtChunk({ tag: 3, bits: 16 }))]), 'unsupported_format', 'it has 16-bit float samples; 32 or 64 bits is taken'],
    [wav([chunk('fmt ', fmtChunk({ channels: 0, blockAlign: 2 }))]), 'bad_wav', 'it says it has 0 channels'],
    [wav([chunk('fmt ', fmtChunk({ rate: 4000 }))]), 'unsupported_format', 'its sample rate is 4000 Hz; 8,000 to 192,000 Hz is taken'],
    [wav([chunk('fmt ', fmtChunk({ blockAlign: 3 }))]), 'bad_wav', 'its block align 3 does not match 1 channel(s) of 16 bits'],
  ])('refuses %#: %s', (b, code, message) => {
    const e = (() => {
      try {
        parse(b);
      } catch (err) {
        return err;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(WavError);
    expect([(e as WavError).code, (e as WavError).message]).toEqual([code, message]);
  });
});

describe('what a file that is not a WAV is', () => {
  it.each([
    [Buffer.concat([Buffer.from('OggS'), Buffer.alloc(24), Buffer.from('OpusHead')]), 'Opus (Ogg)'],
    [Buffer.concat([Buffer.from('OggS'), Buffer.alloc(25), Buffer.from('vorbis')]), 'Ogg Vorbis'],
    [Buffer.from('fLaC\0\0\0"'), 'FLAC'],
    [Buffer.from('ID3\x04\0\0'), 'MP3'],
    [Buffer.from([0xff, 0xfb, 0x90, 0x64]), 'MP3'],
    [Buffer.from('\0\0\0\x20ftypM4A '), 'MP4/M4A (AAC)'],
    [Buffer.from('#!AMR\n'), 'AMR/SILK (a phone or WeChat voice message)'],
    [Buffer.from('\x02#!SILK_V3'), 'AMR/SILK (a phone or WeChat voice message)'],
    [Buffer.from('RIFX\0\0\0\0WAVE'), 'big-endian WAV (RIFX)'],
    [Buffer.from('FORM\0\0\0\0AIFF'), 'AIFF'],
    [Buffer.from('plain text'), null],
  ])('%#: %s', (head, what) => {
    expect(sniff(head)).toBe(what);
  });
});

describe('the levels', () => {
  it('a sine at half scale: RMS −9 dBFS, peak −6 dBFS', () => {
    const i = readWav(onDisk(wav([chunk('fmt ', fmtChunk()), chunk('data', pcm16(sine(16000, 0.5)))])));
    expect(i.rmsDb).toBeCloseTo(-9.03, 1);
    expect(i.loudestDb).toBeCloseTo(-9.03, 1);
    expect(i.peakDb).toBeCloseTo(-6.02, 1);
  });

  it('digital silence is −∞; a constant DC offset is no sound either', () => {
    expect(readWav(onDisk(wav([chunk('fmt ', fmtChunk()), chunk('data', pcm16(new Array(8000).fill(0)))]))).loudestDb).toBe(Number.NEGATIVE_INFINITY);
    const dc = readWav(onDisk(wav([chunk('fmt ', fmtChunk()), chunk('data', pcm16(new Array(8000).fill(0.5)))])));
    expect(dc.rmsDb).toBeCloseTo(-6.02, 1);
    expect(dc.loudestDb).toBeLessThan(-90);
  });

  it('a short word in a long silence: the loudest 100 ms finds it, the whole-file RMS would not', () => {
    const samples = [...new Array(16000 * 30).fill(0), ...sine(1600, 0.3), ...new Array(16000 * 30).fill(0)];
    const i = readWav(onDisk(wav([chunk('fmt ', fmtChunk()), chunk('data', pcm16(samples))])));
    expect(i.rmsDb).toBeLessThan(-40);
    expect(i.loudestDb).toBeCloseTo(-13.5, 0);
  });

  it('reads 8-bit unsigned, 24-bit, 32-bit and float samples to the same scale', () => {
    const n = 1600;
    const s = sine(n, 0.5);
    const b8 = Buffer.from(s.map((x) => Math.round(x * 127 + 128)));
    const b24 = Buffer.alloc(n * 3);
    s.forEach((x, i) => b24.writeIntLE(Math.round(x * 8_388_607), i * 3, 3));
    const b32 = Buffer.alloc(n * 4);
    s.forEach((x, i) => b32.writeInt32LE(Math.round(x * 2_147_483_647), i * 4));
    const f32 = Buffer.alloc(n * 4);
    s.forEach((x, i) => f32.writeFloatLE(x, i * 4));
    for (const [f, data] of [[{ bits: 8 }, b8], [{ bits: 24 }, b24], [{ bits: 32 }, b32], [{ tag: 3, bits: 32 }, f32]] as const) {
      expect(readWav(onDisk(wav([chunk('fmt ', fmtChunk(f)), chunk('data', data)]))).peakDb, JSON.stringify(f)).toBeCloseTo(-6.02, 0);
    }
  });

  it('a file longer than the limit is refused before its samples are read', () => {
    // A header claiming an hour of 48 kHz stereo over a few bytes: only the header is read.
    const h = chunk('data', Buffer.alloc(0), 3600 * 48000 * 4);
    const p = onDisk(Buffer.concat([wav([chunk('fmt ', fmtChunk({ rate: 48000, channels: 2 }))]), h, Buffer.alloc(4)]));
    expect(readWav(p, 300)).toMatchObject({ tooLong: false, truncated: true }); // only what is there counts: 4 bytes
    const q = onDisk(Buffer.concat([wav([chunk('fmt ', fmtChunk({ rate: 8000 }))]), chunk('data', Buffer.alloc(8000 * 2 * 301))]));
    expect(readWav(q, 300)).toMatchObject({ tooLong: true, durationS: 301 });
  });
});
