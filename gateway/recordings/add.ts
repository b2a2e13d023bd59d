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
import { randomBytes } from 'node:crypto';
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

/** Throws `unknown_template` unless `name` is a broadcast template of this site (and a safe file name). */
export function checkTemplate(config: SiteConfig, name: string): void {
  const known = templateIds(config);
  if (!NAME.test(name) || !known.includes(name)) throw new RecordingError('unknown_template', `unknown broadcast template '${name}' (templates: ${known.join(', ')})`);
}

/** Where template `name`'s recording is stored: `<audio.folder>/<name>.wav`. */
export function recordingPath(config: SiteConfig, name: string): string {
  return join(config.audio.folder, `${name}.wav`);
}

/**
 * A new file in the audio folder, beside where the recording goes (one filesystem: the rename
 * that stores it is atomic); unique per call, so two uploads at once never share one.
 */
export function stagingPath(config: SiteConfig, name: string): string {
  const folder = config.audio.folder;
  try {
    mkdirSync(folder, { recursive: true });
  } catch (err) {
    throw new RecordingError('cannot_store', `cannot make the audio folder ${folder}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return join(folder, `.${name}.wav.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * The one check-and-store of a recording, for `shaobing audio add` and the panel's upload:
 * `staged` (a file from stagingPath, which nobody else writes) is checked; refused, it is
 * deleted and nothing else changes; taken, it is synced and renamed over `<name>.wav`, the one
 * before kept as `<name>.previous.wav`. `shownAs` names the file in a refusal's convert hint.
 */
export function storeStaged(config: SiteConfig, name: string, staged: string, shownAs: string): Stored {
  const folder = config.audio.folder;
  const dest = recordingPath(config, name);
  try {
    checkTemplate(config, name);
    const info = checkRecording(staged, shownAs);
    fsyncPath(staged);
    const previous = existsSync(dest) ? join(folder, `${name}.previous.wav`) : null;
    if (previous) renameSync(dest, previous);
    renameSync(staged, dest);
    fsyncPath(folder);
    return { path: dest, previous, info };
  } catch (err) {
    rmSync(staged, { force: true });
    if (err instanceof RecordingError) throw err;
    throw new RecordingError('cannot_store', `cannot store it as ${dest}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Checks `file` and stores it for template `name`; throws RecordingError (nothing changed) when refused. */
export function addRecording(config: SiteConfig, name: string, file: string): Stored {
  checkTemplate(config, name);
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new RecordingError('unreadable', 'it is not a file');
    size = st.size;
  } catch (err) {
    if (err instanceof RecordingError) throw err;
    throw new RecordingError('unreadable', `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const tmp = stagingPath(config, name);
  try {
    copyFileSync(file, tmp);
    // What is checked is the copy that will be stored, not the file that may change meanwhile.
    if (statSync(tmp).size !== size) throw new RecordingError('unreadable', 'it changed while it was being copied');
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof RecordingError) throw err;
    throw new RecordingError('cannot_store', `cannot write ${tmp}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return storeStaged(config, name, tmp, file);
}

/**
 * What the officer must still do for the box to play it: nothing when the config names this
 * file or no recording at all for the template (the speakers then play `<audio.folder>/<NAME>.wav`,
 * drivers/speaker/template-recording.ts); the config line when it names another file.
 */
export function configHint(config: SiteConfig, name: string, stored: string): string | null {
  const rec = config.audio.recordings[name];
  if (!rec || resolve(rec.zh) === resolve(stored)) return null;
  const line = `broadcasts: { templates: { ${name}: { audio: ${name}.wav } } }`;
  return `the config plays ${rec.zh} for '${name}'; to play this one instead, set ${line} (audio.folder ${config.audio.folder}) and restart the box`;
}
