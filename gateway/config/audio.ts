/**
 * The broadcast audio parts of the config (README "Broadcasts and sound"): a speaker's `audio:`
 * (the box plays it itself) and the site's `audio:` (recordings, text-to-speech), with their
 * cross-field rules. Called from normalise.ts; problems are `path: message`, all at once.
 */
import { isAbsolute, join } from 'node:path';
import { AUDIO_DEFAULTS, SPEAKER_AUDIO_DEFAULTS } from './defaults.ts';
import type { ConfigProblem } from './normalise.ts';
import type { ActuatorConfig, AudioConfig, AudioRecording, BroadcastTemplate, SpeakerAudio } from './types.ts';

type Raw = Record<string, any>;

/** A speaker's `audio:`; `path` is `actuators[i]`. */
export function speakerAudio(a: Raw, path: string, busIds: string[], problems: ConfigProblem[]): SpeakerAudio | null {
  const au: Raw | undefined = a.audio;
  if (!au) return null;
  const at = `${path}.audio`;
  if (a.kind !== 'speaker') problems.push({ path: at, message: 'only a speaker has audio' });
  if (a.modbus && a.kind === 'speaker') problems.push({ path: `${path}.modbus`, message: 'a speaker with audio is played by the box; its amplifier relay goes under audio.amp' });
  if (au.sink === 'file' && au.device !== undefined) problems.push({ path: `${at}.device`, message: 'only for sink alsa (a file sink plays on audio.monitor, if set)' });
  if (au.sink === 'alsa' && au.monitor !== undefined) problems.push({ path: `${at}.monitor`, message: 'only for sink file (sink alsa plays on audio.device)' });
  for (const k of ['folder', 'keep']) if (au.sink === 'alsa' && au[k] !== undefined) problems.push({ path: `${at}.${k}`, message: 'only for sink file' });
  if (au.amp && !busIds.includes(au.amp.bus)) problems.push({ path: `${at}.amp.bus`, message: `unknown bus '${au.amp.bus}' (buses: ${busIds.join(', ') || 'none'})` });
  return {
    sink: au.sink,
    device: au.device ?? SPEAKER_AUDIO_DEFAULTS.device,
    folder: au.folder ?? SPEAKER_AUDIO_DEFAULTS.folder,
    keep: au.keep ?? SPEAKER_AUDIO_DEFAULTS.keep,
    monitor: au.monitor ?? null,
    english: au.english ?? SPEAKER_AUDIO_DEFAULTS.english,
    amp: au.amp ? { bus: au.amp.bus, unit: au.amp.unit, profile: au.amp.profile, coil: au.amp.coil ?? 0 } : null,
  };
}

/**
 * An amplifier relay is one coil of one unit on one bus: two speakers on it would switch each
 * other off, and a siren's coil would sound the siren with every broadcast.
 */
export function ampClashes(raw: Raw[], actuators: ActuatorConfig[], problems: ConfigProblem[]): void {
  const where = (m: { bus: string; unit: number; coil: number }): string => `${m.bus}/${m.unit}/${m.coil}`;
  const owner = new Map<string, string>();
  actuators.forEach((a) => {
    if (a.modbus && a.kind === 'siren') owner.set(where(a.modbus), `siren ${a.id}`);
  });
  actuators.forEach((a, i) => {
    const amp = a.audio?.amp;
    if (!amp || raw[i]?.audio?.amp === undefined) return;
    const other = owner.get(where(amp));
    if (other) problems.push({ path: `actuators[${i}].audio.amp.coil`, message: `coil ${amp.coil} of unit ${amp.unit} on bus ${amp.bus} is already ${other}'s relay` });
    else owner.set(where(amp), `speaker ${a.id}`);
  });
}

function file(folder: string, name: string): string {
  return isAbsolute(name) ? name : join(folder, name);
}

/**
 * The site's `audio:`. A template's recording is named by the template
 * (`broadcasts.templates.<id>.audio`, a file name in `audio.folder`); `audio.recordings.<id>` adds
 * what a template cannot say: an English recording (`en`), `figures: false`, or the Mandarin
 * file itself (`zh`, or the plain string form) for a template that names none.
 */
export function siteAudio(raw: Raw | undefined, templates: Record<string, BroadcastTemplate>, problems: ConfigProblem[]): AudioConfig {
  const au: Raw = raw ?? {};
  const folder: string = au.folder ?? AUDIO_DEFAULTS.folder;
  const recordings: Record<string, AudioRecording> = {};
  for (const [id, t] of Object.entries(templates)) if (t.audio) recordings[id] = { zh: file(folder, t.audio), en: null, figures: true };
  for (const [id, r] of Object.entries((au.recordings ?? {}) as Raw)) {
    const path = `audio.recordings.${id}`;
    const t = templates[id];
    if (!t) {
      problems.push({ path, message: `no broadcast template '${id}' (templates: ${Object.keys(templates).join(', ')})` });
      continue;
    }
    const rec: Raw = typeof r === 'string' ? { zh: r } : r;
    if (rec.zh !== undefined && t.audio && rec.zh !== t.audio) problems.push({ path: typeof r === 'string' ? path : `${path}.zh`, message: `broadcasts.templates.${id}.audio names its recording already ('${t.audio}')` });
    const zh = rec.zh ?? t.audio;
    if (!zh) {
      problems.push({ path: `${path}.zh`, message: `is required: template '${id}' names no recording (broadcasts.templates.${id}.audio)` });
      continue;
    }
    recordings[id] = { zh: file(folder, zh), en: rec.en ? file(folder, rec.en) : null, figures: rec.figures ?? true };
  }
  const t: Raw = { ...AUDIO_DEFAULTS.tts, ...au.tts };
  return { folder, recordings, tts: { command: t.command, voiceZh: t.voice_zh, voiceEn: t.voice_en, speedWpm: t.speed_wpm } };
}
