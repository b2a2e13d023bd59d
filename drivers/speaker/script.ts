/**
 * What a broadcast sounds like, as a list of parts in play order (pure; the renderer makes each
 * part's audio). An officer hears:
 *
 *   叮咚 (chime) · 0.4 s · Mandarin · 0.7 s · English · 1.5 s · Mandarin · 0.7 s · English … · 0.3 s
 *
 * the Mandarin and English pair `repeat` times, English only when the speaker is set to speak it
 * and the broadcast has an English text of its own. The Mandarin is the template's recording
 * when the site has one for the broadcast's template (then, if the recording is set to, the
 * figures of the text follow it in TTS: a recording cannot know today's 104.2 mm), else TTS.
 */
import type { AudioRecording } from '../../gateway/config/types.ts';
import { CHIME_LENGTH_S } from './chime.ts';
import { normaliseEn } from './text-en.ts';
import { normaliseZh } from './text-zh.ts';

/** The broadcast as the renderer needs it: the planner's `broadcast` effect fits. */
export interface BroadcastSpec {
  textZh: string;
  textEn?: string;
  repeat: number;
  /** The named template it was made from (`broadcasts.templates.<id>`), for its recording. */
  template?: string;
}

/** A site's recording of one template (config `audio.recordings`). */
export type Recording = AudioRecording;

export interface ScriptOptions {
  english: boolean;
  recordings: Record<string, Recording>;
}

export type Voice = 'zh' | 'en';

export type Part =
  | { kind: 'chime' }
  | { kind: 'pause'; ms: number }
  /** Text already normalised for its voice. */
  | { kind: 'tts'; voice: Voice; text: string }
  /** `fallback`: what TTS says instead if the file cannot be played. */
  | { kind: 'recording'; file: string; template: string; fallback: { voice: Voice; text: string } };

export const PAUSE_AFTER_CHIME_MS = 400;
export const PAUSE_BETWEEN_LANGUAGES_MS = 700;
export const PAUSE_BETWEEN_REPEATS_MS = 1500;
export const PAUSE_AT_END_MS = 300;
/** No broadcast says its message more often than this, whatever it asks. */
export const MAX_REPEAT = 10;

const HAN = /\p{Script=Han}/u;

/**
 * The clauses of a text that carry figures, joined with a comma: what TTS adds after a
 * recording. `示范社区:暴雨红色预警,3 小时降雨量 104.2 毫米。请…` → `3 小时降雨量 104.2 毫米`.
 */
export function figureClauses(text: string): string {
  return text
    // A full stop ends an English clause only before a space or the end: 2.5 keeps its point.
    .split(/[,,。;;!!??::\n]+|\.(?=\s|$)/)
    .map((c) => c.trim())
    .filter((c) => /\d/.test(c))
    .join(',');
}

/** Does the English text exist in its own right (not the Mandarin copied, not Chinese)? */
export function hasEnglish(b: Pick<BroadcastSpec, 'textZh' | 'textEn'>): boolean {
  const en = b.textEn?.trim();
  return !!en && en !== b.textZh.trim() && !HAN.test(en) && /[A-Za-z]/.test(en);
}

function language(b: BroadcastSpec, voice: Voice, o: ScriptOptions): Part[] {
  const text = voice === 'zh' ? b.textZh : b.textEn!;
  const normalise = voice === 'zh' ? normaliseZh : normaliseEn;
  const spoken = normalise(text);
  const rec = b.template ? o.recordings[b.template] : undefined;
  const file = rec ? (voice === 'zh' ? rec.zh : rec.en) : null;
  if (!rec || !file) return [{ kind: 'tts', voice, text: spoken }];
  const parts: Part[] = [{ kind: 'recording', file, template: b.template!, fallback: { voice, text: spoken } }];
  const figures = rec.figures ? figureClauses(text) : '';
  if (figures) parts.push({ kind: 'pause', ms: 200 }, { kind: 'tts', voice, text: normalise(figures) });
  return parts;
}

/** The broadcast's parts in play order. */
export function script(b: BroadcastSpec, o: ScriptOptions): Part[] {
  const repeat = Math.max(1, Math.min(MAX_REPEAT, Math.floor(b.repeat) || 1));
  const english = o.english && hasEnglish(b);
  const parts: Part[] = [{ kind: 'chime' }, { kind: 'pause', ms: PAUSE_AFTER_CHIME_MS }];
  for (let i = 0; i < repeat; i++) {
    if (i > 0) parts.push({ kind: 'pause', ms: PAUSE_BETWEEN_REPEATS_MS });
    parts.push(...language(b, 'zh', o));
    if (english) parts.push({ kind: 'pause', ms: PAUSE_BETWEEN_LANGUAGES_MS }, ...language(b, 'en', o));
  }
  parts.push({ kind: 'pause', ms: PAUSE_AT_END_MS });
  return parts;
}

/**
 * Splits normalised Mandarin into runs for the two voices: Latin words (a zone called
 * "Building B", an English name) go to the English voice, everything else to the Mandarin one
 * (Debian's Mandarin voice reads Latin letters as pinyin).
 */
export function voiceRuns(text: string, voice: Voice): { voice: Voice; text: string }[] {
  if (voice === 'en') return text.trim() ? [{ voice, text: text.trim() }] : [];
  const runs: { voice: Voice; text: string }[] = [];
  for (const m of text.matchAll(/([A-Za-z][A-Za-z'.\- ]*[A-Za-z]|[A-Za-z])|([^A-Za-z]+)/g)) {
    const t = m[0].trim();
    if (!t || !/[\p{L}\p{N}]/u.test(t)) continue;
    const v: Voice = m[1] ? 'en' : 'zh';
    const last = runs.at(-1);
    if (last && last.voice === v) last.text += t;
    else runs.push({ voice: v, text: t });
  }
  return runs;
}

/**
 * About how long a broadcast takes (s), from its text alone: espeak-ng's Mandarin voice says about
 * 3.7 characters a second, its English about 14 (measured at the default speed, 175 wpm). For
 * deadlines (a speaker that never says it is done), never for anything the listener hears.
 */
export function estimateS(b: BroadcastSpec, english: boolean): number {
  const zh = b.textZh.replace(/\s/g, '').length / 3.7;
  const en = english && hasEnglish(b) ? b.textEn!.replace(/\s/g, '').length / 14 : 0;
  const repeat = Math.max(1, Math.min(MAX_REPEAT, Math.floor(b.repeat) || 1));
  const pauses = (PAUSE_AFTER_CHIME_MS + PAUSE_AT_END_MS + (repeat - 1) * PAUSE_BETWEEN_REPEATS_MS + (en ? repeat * PAUSE_BETWEEN_LANGUAGES_MS : 0)) / 1000;
  return CHIME_LENGTH_S + pauses + repeat * (zh + en);
}
