/**
 * Which recording a broadcast template plays: the one the config names
 * (`broadcasts.templates.<id>.audio`, `audio.recordings.<id>`), else the one stored for it by
 * `shaobing audio add` or the panel's upload, `<audio.folder>/<id>.wav`, if there is one. Asked
 * at each broadcast (one stat), so a recording uploaded from the panel plays at the next
 * broadcast without a restart; such a file was checked when it was stored (gateway/recordings/).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AudioConfig, AudioRecording } from '../../gateway/config/types.ts';

/** A template id that is a plain file name (the config's ids are; anything else is never a path). */
const SAFE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export function storedRecordingPath(audio: Pick<AudioConfig, 'folder'>, template: string): string | null {
  return SAFE.test(template) ? join(audio.folder, `${template}.wav`) : null;
}

export function templateRecording(audio: AudioConfig, template: string): AudioRecording | null {
  const named = audio.recordings[template];
  if (named) return named;
  const stored = storedRecordingPath(audio, template);
  return stored && existsSync(stored) ? { zh: stored, en: null, figures: true } : null;
}
