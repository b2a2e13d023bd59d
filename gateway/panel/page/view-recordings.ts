/**
 * The broadcast screen's recordings card: for each named broadcast, whether the box has a
 * recorded announcement for it (GET /api/recordings), and for officers an upload (a WAV file,
 * PUT /api/recordings/<template>, checked by the box as `shaobing audio add` checks it). The
 * file input sits inside a 56 px label styled as a button: one touch opens the phone's or the
 * box's file picker. No recording with the microphone here (yet): a browser gives the
 * microphone only to a secure context (HTTPS or localhost), which a phone on the shelter's LAN
 * over plain HTTP is not.
 */
import { ApiError, call, uploadRecording } from './api.ts';
import { h, patch } from './dom.ts';
import { clockTime } from './format.ts';
import { pick, t, type WordKey } from './i18n.ts';
import { toast } from './shared.ts';
import type { Template } from './types.ts';

interface Listing {
  template: string;
  stored: boolean;
  duration_s: number | null;
  stored_at: string | null;
  stored_plays: boolean;
}

/** The box's refusal in the officer's words first, the box's own reason after it. */
const WHY: Record<string, WordKey> = { silent: 'recSilent', too_long: 'recTooLong', not_audio: 'recNotAudio' };

function refusal(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const code = typeof err.body?.code === 'string' ? err.body.code : '';
  const words = err.status === 413 ? t('recTooLarge') : WHY[code] ? t(WHY[code]!) : '';
  const detail = err.message.replace(/^(body|params\.template): /, '');
  return words ? `${words} (${detail})` : detail;
}

export function recordingsCard(officer: boolean): { el: HTMLElement; update(templates: Template[]): void } {
  const list = h('ul', { class: 'plain recordings', 'data-part': 'recordings' });
  const el = h('section', { class: 'card', 'data-part': 'recordings-card' }, h('h2', null, t('recordings')), h('p', { class: 'quiet' }, t('recordingsNote')), list);
  let templates: Template[] = [];
  let listing: Listing[] | null = null;

  const draw = (): void =>
    patch(list, [templates, listing, document.documentElement.lang], () =>
      templates.map((tp) => {
        const r = listing?.find((x) => x.template === tp.id);
        const status = !r || !r.stored ? h('span', { class: 'quiet', 'data-rec': 'none' }, t('noRecording')) : r.stored_plays
          ? h('span', { class: 'rec-ok', 'data-rec': 'stored' }, t('recorded', { s: r.duration_s ?? '?', at: clockTime(r.stored_at) }))
          : h('span', { class: 'bad', 'data-rec': 'other' }, t('recordingOther'));
        const input = h('input', { type: 'file', accept: '.wav,audio/wav,audio/x-wav', class: 'file-hidden', 'data-upload': tp.id, onchange: (e: Event) => void send(tp, e.target as HTMLInputElement) });
        return h(
          'li',
          { class: 'recording-row', 'data-recording': tp.id },
          h('div', null, h('strong', null, pick(tp.name_zh, tp.name_en)), h('div', null, status)),
          officer ? h('label', { class: 'btn big upload' }, r?.stored ? t('replaceRecording') : t('uploadRecording'), input) : null,
        );
      }),
    );

  async function refresh(): Promise<void> {
    try {
      listing = (await call<{ recordings: Listing[] }>('GET', '/api/recordings')).recordings;
    } catch {
      listing = null;
    }
    draw();
  }

  async function send(tp: Template, input: HTMLInputElement): Promise<void> {
    const f = input.files?.[0];
    if (!f) return;
    const label = input.parentElement;
    label?.setAttribute('aria-busy', 'true');
    toast(t('uploading'));
    try {
      await uploadRecording(tp.id, f);
      toast(t('uploaded', { name: pick(tp.name_zh, tp.name_en) }));
    } catch (err) {
      toast(t('notStored', { why: refusal(err) }), 'bad');
    } finally {
      label?.removeAttribute('aria-busy');
      input.value = '';
      await refresh();
    }
  }

  void refresh();
  return {
    el,
    update(next) {
      templates = next;
      draw();
    },
  };
}
