/**
 * `shaobing audio add NAME FILE --config SITE.yaml`: a recorded announcement for broadcast
 * template NAME, checked and stored as `<audio.folder>/<NAME>.wav` (the site's audio folder,
 * config `audio.folder`). The checks run in TypeScript on the copy that will be stored (wav.ts):
 *
 * - NAME is a broadcast template the site knows (`broadcasts.templates`: the built-in ones and the site's own);
 * - the file is a WAV of PCM or float samples (WAV only: it is the one format the box can check
 *   without a decoder; Opus, MP3, AMR… are named and the command to convert them is given);
 * - it lasts at most 5 minutes (`actions.broadcast_max_s` cuts a broadcast off at 300 s by default);
 * - it is not silent: some 100 ms of it is louder than −50 dBFS, its DC offset removed.
 *
 * A refused file changes nothing. A stored one replaces the old recording atomically (written
 * beside it, synced, renamed), and the old one is kept as `<NAME>.previous.wav`.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BROADCAST_TEMPLATE_IDS } from '../config/defaults.ts';
import type { SiteConfig } from '../config/types.ts';
import { readWav, WavError, type WavInfo } from './wav.ts';

export const MAX_RECORDING_S = 300;
/** The loudest 100 ms of a recording must be above this (a phone's silence is about −60 to −70 dBFS; speech −30 to −10). */
export const SILENT_DBFS = -50;

export type RecordingErrorCode = 'unknown_template' | 'unreadable' | 'not_audio' | 'too_long' | 'silent' | 'cannot_store';

export class RecordingError extends Error {
  constructor(
    readonly code: RecordingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RecordingError';
  }
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** The templates a recording may be for: the site's `broadcasts.templates`, the built-in ones included. */
export function templateIds(config: SiteConfig): string[] {
  return [...new Set([...BROADCAST_TEMPLATE_IDS, ...Object.keys(config.broadcasts.templates)])];
}

/** What to run to turn a file of another format into a WAV the box takes. */
function convertHint(what: string, file: string): string {
  if (what.startsWith('Opus')) return `opusdec '${file}' out.wav   (Debian package opus-tools)`;
  if (/^(FLAC|Ogg|AIFF)/.test(what)) return `sox '${file}' out.wav`;
  return `ffmpeg -i '${file}' -ac 1 -ar 22050 out.wav`;
}

const minSec = (s: number): string => (s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);
const dbText = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)} dBFS` : '−∞ dBFS (all zero)');

/** Checks the WAV at `path` as a recording; throws RecordingError with the reason. */
export function checkRecording(path: string, shownAs = path): WavInfo {
  let info: ReturnType<typeof readWav>;
  try {
    info = readWav(path, MAX_RECORDING_S);
  } catch (err) {
    if (!(err instanceof WavError)) throw new RecordingError('unreadable', `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    const m = /it is (.+)$/.exec(err.message);
    const hint = err.code === 'not_wav' && m ? `; the box checks WAV only, so convert it first: ${convertHint(m[1]!, shownAs)}` : '';
    throw new RecordingError('not_audio', `${err.message}${hint}`);
  }
  if (info.tooLong) throw new RecordingError('too_long', `it is ${minSec(info.durationS)} long; a recording may be at most ${MAX_RECORDING_S / 60} min (a broadcast is cut off at actions.broadcast_max_s)`);
  if (info.durationS < 0.1) throw new RecordingError('silent', `it has no sound: ${info.durationS.toFixed(2)} s of samples`);
  if (!(info.loudestDb >= SILENT_DBFS)) throw new RecordingError('silent', `it is silent: its loudest 100 ms is ${dbText(info.loudestDb)}, below ${SILENT_DBFS} dBFS (was the microphone muted?)`);
  return info;
}

export function describeWav(i: WavInfo): string {
  const kind = i.encoding === 'pcm' ? `PCM ${i.bits}-bit` : `float ${i.bits}-bit`;
  const ch = i.channels === 1 ? 'mono' : i.channels === 2 ? 'stereo' : `${i.channels} channels`;
  return `${kind}, ${ch}, ${i.rate} Hz, ${minSec(i.durationS)}, loudest 100 ms ${dbText(i.loudestDb)}, peak ${dbText(i.peakDb)}${i.truncated ? ', data cut short (the file ends early)' : ''}`;
}

function fsyncPath(path: string, flags = 'r'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface Stored {
  path: string;
  previous: string | null;
  info: WavInfo;
}

/** Checks `file` and stores it for template `name`; throws RecordingError (nothing changed) when refused. */
export function addRecording(config: SiteConfig, name: string, file: string): Stored {
  const known = templateIds(config);
  if (!NAME.test(name) || !known.includes(name)) throw new RecordingError('unknown_template', `unknown broadcast template '${name}' (templates: ${known.join(', ')})`);
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new RecordingError('unreadable', 'it is not a file');
    size = st.size;
  } catch (err) {
    if (err instanceof RecordingError) throw err;
    throw new RecordingError('unreadable', `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const folder = config.audio.folder;
  const dest = join(folder, `${name}.wav`);
  const tmp = join(folder, `.${name}.wav.${process.pid}.tmp`);
  try {
    mkdirSync(folder, { recursive: true });
    copyFileSync(file, tmp);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new RecordingError('cannot_store', `cannot write ${tmp}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    // What is checked is the copy that will be stored, not the file that may change meanwhile.
    if (statSync(tmp).size !== size) throw new RecordingError('unreadable', 'it changed while it was being copied');
    const info = checkRecording(tmp, file);
    fsyncPath(tmp);
    const previous = existsSync(dest) ? join(folder, `${name}.previous.wav`) : null;
    if (previous) renameSync(dest, previous);
    renameSync(tmp, dest);
    fsyncPath(folder);
    return { path: dest, previous, info };
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof RecordingError) throw err;
    throw new RecordingError('cannot_store', `cannot store it as ${dest}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * What the officer must still do for the box to play it: the config line, when the config does
 * not already name this file as the template's recording (`broadcasts.templates.<NAME>.audio`,
 * or `audio.recordings.<NAME>`).
 */
export function configHint(config: SiteConfig, name: string, stored: string): string | null {
  const rec = config.audio.recordings[name];
  if (rec && resolve(rec.zh) === resolve(stored)) return null;
  const line = `broadcasts: { templates: { ${name}: { audio: ${name}.wav } } }`;
  return rec
    ? `the config plays ${rec.zh} for '${name}'; to play this one instead, set ${line} (audio.folder ${config.audio.folder}) and restart the box`
    : `to play it for '${name}', add ${line} to the site config (audio.folder ${config.audio.folder}) and restart the box`;
}
