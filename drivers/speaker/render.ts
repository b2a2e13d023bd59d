/**
 * Makes a broadcast's audio: the script's parts (script.ts) as PCM in the box format (pcm.ts).
 * Two ways to use it, with one result:
 *
 * - `renderBroadcast(b, config, {path})`: the whole broadcast as one WAV file (IP speakers serve
 *   it, self-tests measure it). Stable API: `Promise<{path, durationS, fallbacks}>`.
 * - `renderParts(b, config)`: each part as its own promise, all started at once, in play order,
 *   for a speaker that starts playing before everything is made (the chime is ready at once;
 *   speech renders while the chime plays, so a broadcast starts within milliseconds).
 *
 * A recording that cannot be decoded falls back to TTS of the same text and is listed in
 * `fallbacks` (the speaker reports it as a fault; the broadcast still plays). A TTS failure
 * rejects that part's promise: a message nobody can say is a failed broadcast.
 */
import { open } from 'node:fs/promises';
import type { AudioConfig } from '../../gateway/config/types.ts';
import { chimePcm } from './chime.ts';
import { SpeakerError } from './errors.ts';
import { decodeRecording } from './recording.ts';
import { durationS, silence, wavHeader } from './pcm.ts';
import { script, voiceRuns, type BroadcastSpec, type Part, type Voice } from './script.ts';
import { speak } from './tts.ts';

export type { BroadcastSpec } from './script.ts';

export interface RenderOptions {
  /** Speak the English text after the Mandarin (the speaker's `audio.english`); default true. */
  english?: boolean;
  /**
   * Speech and recordings are made once this settles (the chime and pauses at once): a speaker
   * passes "the chime has started", so starting espeak-ng and sox (a process spawn each, several
   * milliseconds on a loaded box) never delays the chime of a broadcast that must start now.
   */
  after?: Promise<unknown>;
}

/** A recording that could not be played; TTS said its text instead. */
export interface Fallback {
  template: string;
  file: string;
  code: string;
  message: string;
}

export interface RenderJob {
  /** The parts' PCM in play order; each rejects on its own (a TTS failure: `tts_failed`). */
  parts: Promise<Buffer>[];
  /** Recordings that fell back to TTS; settles once every part has. */
  fallbacks: Promise<Fallback[]>;
}

export interface RenderedBroadcast {
  path: string;
  durationS: number;
  fallbacks: Fallback[];
}

/** The parts of `b` being made; speech for a text said several times is made once. */
export function renderParts(b: BroadcastSpec, config: { audio: AudioConfig }, o: RenderOptions = {}): RenderJob {
  const { audio } = config;
  const parts = script(b, { english: o.english ?? true, recordings: audio.recordings });
  const made = new Map<string, Promise<Buffer>>();
  const fallbacks: Fallback[] = [];
  const tts = (voice: Voice, text: string): Promise<Buffer> => {
    const key = `tts\0${voice}\0${text}`;
    let p = made.get(key);
    if (!p) {
      // Latin words in Mandarin text go to the English voice; the runs are joined without a gap.
      p = Promise.all(voiceRuns(text, voice).map((r) => speak(r.text, r.voice, audio.tts))).then((pcm) => Buffer.concat(pcm));
      made.set(key, p);
    }
    return p;
  };
  const gate = o.after ? o.after.then(() => undefined, () => undefined) : null;
  const later = (f: () => Promise<Buffer>): Promise<Buffer> => (gate ? gate.then(f) : f());
  const make = (part: Part): Promise<Buffer> => {
    switch (part.kind) {
      case 'chime':
        return Promise.resolve(chimePcm());
      case 'pause':
        return Promise.resolve(silence(part.ms));
      case 'tts':
        return later(() => tts(part.voice, part.text));
      case 'recording':
        return later(() => recording(part));
    }
  };
  const recording = (part: Extract<Part, { kind: 'recording' }>): Promise<Buffer> => {
    const key = `rec\0${part.file}`;
    let p = made.get(key);
    if (!p) {
      p = decodeRecording(part.file).catch((err: unknown) => {
        const e = err instanceof SpeakerError ? err : new SpeakerError('recording_failed', String(err));
        fallbacks.push({ template: part.template, file: part.file, code: e.code, message: e.message });
        return tts(part.fallback.voice, part.fallback.text);
      });
      made.set(key, p);
    }
    return p;
  };
  const pcm = parts.map(make);
  // allSettled observes every part (a part never awaited, after a stop, is no unhandled
  // rejection); the caller sees the errors through `parts`.
  const all = Promise.allSettled(pcm).then(() => fallbacks);
  return { parts: pcm, fallbacks: all };
}

/** The whole broadcast as one WAV at `o.path` (written, then closed). Rejects like `renderParts`' parts. */
export async function renderBroadcast(b: BroadcastSpec, config: { audio: AudioConfig }, o: RenderOptions & { path: string }): Promise<RenderedBroadcast> {
  const job = renderParts(b, config, o);
  const pcm = await Promise.all(job.parts);
  const bytes = pcm.reduce((n, p) => n + p.length, 0);
  const fh = await open(o.path, 'w').catch((err: NodeJS.ErrnoException) => {
    throw new SpeakerError('file_failed', `cannot write ${o.path}: ${err.code ?? err.message}`, { path: o.path, errno: err.code });
  });
  try {
    await fh.writev([wavHeader(bytes), ...pcm]);
  } finally {
    await fh.close();
  }
  return { path: o.path, durationS: durationS(bytes), fallbacks: await job.fallbacks };
}
