/**
 * Which broadcast templates have a stored recording (`<audio.folder>/<NAME>.wav`, put there by
 * `shaobing audio add` or the panel's upload) and whether the speakers play it: they do unless
 * the config names another file for that template (drivers/speaker/template-recording.ts).
 * Headers only are read (a listing never reads minutes of samples).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SiteConfig } from '../config/types.ts';
import { recordingPath, templateIds } from './add.ts';
import { readWavHeader } from './wav.ts';

export interface RecordingListing {
  template: string;
  /** The stored file, or null when none is stored. */
  file: string | null;
  durationS: number | null;
  sizeBytes: number | null;
  /** Its mtime (when it was stored), epoch ms. */
  storedAtMs: number | null;
  /** The file the speakers play for this template: the config's, else the stored one, else null (TTS). */
  plays: string | null;
  /** The stored file is what plays. */
  storedPlays: boolean;
  /** A stored file that cannot be read as a WAV (put there by hand): why. */
  problem: string | null;
}

export function listRecordings(config: SiteConfig): RecordingListing[] {
  return templateIds(config).map((template) => {
    const path = recordingPath(config, template);
    const named = config.audio.recordings[template]?.zh ?? null;
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(path);
    } catch {
      st = undefined;
    }
    if (!st?.isFile()) return { template, file: null, durationS: null, sizeBytes: null, storedAtMs: null, plays: named, storedPlays: false, problem: null };
    let durationS: number | null = null;
    let problem: string | null = null;
    try {
      durationS = Math.round(readWavHeader(path).durationS * 10) / 10;
    } catch (err) {
      problem = (err as Error).message;
    }
    const plays = named ?? path;
    return { template, file: path, durationS, sizeBytes: st.size, storedAtMs: st.mtimeMs, plays, storedPlays: resolve(plays) === resolve(path), problem };
  });
}
