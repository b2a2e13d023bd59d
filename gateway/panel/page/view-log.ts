/**
 * The event log: filter by time, type and zone; page on; export the same filter as CSV (the
 * API's download, UTF-8 with a BOM so Excel shows the Chinese); and the drills, each with a
 * link to its review page (复盘, printed from the box).
 */
import { ApiError, call } from './api.ts';
import { button, h } from './dom.ts';
import { boxNow, clockTime, siteLocal, siteOffset } from './format.ts';
import { EVENT_TYPES, eventWord, kindWord, pick, t } from './i18n.ts';
import { levelChip, zoneName, type View, type ViewCtx } from './shared.ts';
import type { Drill, Level, LoggedEvent, State } from './types.ts';

const PAGE = 200;

function summary(e: LoggedEvent): string {
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  if (s(e.text_zh) || s(e.text_en)) return pick(s(e.text_zh), s(e.text_en));
  const cmd = e.command as Record<string, unknown> | undefined;
  const result = e.result as { ok?: boolean; error?: string } | undefined;
  switch (e.type) {
    case 'command':
      return [cmd?.type, cmd?.textZh ?? cmd?.pattern ?? cmd?.alert ?? cmd?.template ?? '', result && result.ok === false ? `✗ ${result.error ?? ''}` : ''].filter(Boolean).join(' ');
    case 'effect':
      return [e.effect_type, e.actuator, e.pattern, e.indicator, e.state, e.reason].filter((x) => x !== undefined && x !== null && x !== '').join(' ');
    case 'session':
      return [e.action, e.username, e.address].filter(Boolean).join(' ');
    case 'escalation':
      return [e.phase, e.escalation, e.text].filter(Boolean).join(' ');
    case 'note':
      return [e.note, e.detail ? JSON.stringify(e.detail) : ''].filter(Boolean).join(' ');
    default: {
      // The event's own plain figures, `name value`, without the envelope.
      const skip = new Set(['site', 'seq', 'boot', 'at', 'clock_trusted', 'type', 'live', 'start_boot', 'start_site']);
      const parts = Object.entries(e)
        .filter(([k, v]) => !skip.has(k) && v !== null && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'))
        .map(([k, v]) => `${k.replace(/^(start|stop|storage|threshold|report)_/, '')} ${String(v)}`);
      return parts.join(' · ').slice(0, 200);
    }
  }
}

/** `2026-07-20T08:00` from a datetime-local input → with the site's offset, as the API wants. */
function withOffset(local: string): string | null {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(local) ? `${local}:00${siteOffset()}` : null;
}

export function logView(ctx: ViewCtx): View {
  const since = h('input', { type: 'datetime-local', name: 'since', value: siteLocal(boxNow() - 24 * 3600_000).slice(0, 16) });
  const until = h('input', { type: 'datetime-local', name: 'until' });
  const type = h('select', { name: 'type' }, h('option', { value: '' }, t('any')), EVENT_TYPES.map((k) => h('option', { value: k }, eventWord(k))));
  const zone = h('select', { name: 'zone' }, h('option', { value: '' }, t('any')));
  const csv = h('a', { class: 'btn big', href: '/api/events?format=csv', download: '', 'data-action': 'csv' }, t('exportCsv'));
  const rows = h('div', { class: 'events', 'data-part': 'events' });
  const more = button(t('more'), () => load(true), 'big', { hidden: true, 'data-action': 'more' });
  const drills = h('section', { class: 'card', 'data-part': 'drills' }, h('h2', null, t('reviews')));
  let next: number | null = null;
  let zonesDrawn = '';

  function query(): string {
    const q = new URLSearchParams();
    const a = withOffset(since.value);
    const b = withOffset(until.value);
    if (a) q.set('since', a);
    if (b) q.set('until', b);
    if (type.value) q.set('type', type.value);
    if (zone.value) q.set('zone', zone.value);
    return q.toString();
  }

  function row(s: State | null, e: LoggedEvent): HTMLElement {
    const z = typeof e.zone === 'string' ? e.zone : Array.isArray(e.zones) ? (e.zones as string[]).join(',') : '';
    return h(
      'div',
      { class: 'event', 'data-seq': String(e.seq), 'data-type': e.type },
      h('span', { class: 'ev-time' }, clockTime(e.at)),
      h('span', { class: 'ev-type' }, eventWord(e.type)),
      h('span', { class: 'ev-zone' }, z && s ? z.split(',').map((x) => zoneName(s, x)).join('、') : z),
      h('span', { class: 'ev-level' }, typeof e.level === 'string' ? levelChip(e.level as Level) : ''),
      h('span', { class: 'ev-by' }, typeof e.by === 'string' ? e.by : ''),
      h('span', { class: 'ev-text' }, e.drill === true ? `[${t('drill')}] ` : '', summary(e)),
    );
  }

  async function load(append: boolean): Promise<void> {
    const q = query();
    csv.setAttribute('href', `/api/events?format=csv${q ? `&${q}` : ''}`);
    const page = append && next !== null ? `&after_seq=${next}` : '';
    try {
      const r = await call<{ events: LoggedEvent[]; next_after_seq: number | null }>('GET', `/api/events?limit=${PAGE}${q ? `&${q}` : ''}${page}`);
      if (!append) rows.replaceChildren();
      rows.append(...r.events.map((e) => row(ctx.live.state, e)));
      if (!rows.children.length) rows.append(h('p', { class: 'quiet' }, t('noEvents')));
      next = r.next_after_seq;
      more.hidden = next === null;
    } catch (err) {
      rows.replaceChildren(h('p', { class: 'problem' }, err instanceof Error ? err.message : String(err)));
    }
  }

  async function loadDrills(): Promise<void> {
    try {
      const r = await call<{ drills: Drill[] }>('GET', '/api/drills');
      const list = r.drills; // newest first
      drills.append(
        list.length
          ? h(
              'ul',
              { class: 'plain' },
              list.map((d) =>
                h(
                  'li',
                  { class: 'drill-item' },
                  `${clockTime(d.since)} – ${d.until ? clockTime(d.until) : t('ongoing')} · ${d.kind ? `${kindWord(d.kind)} · ` : ''}${d.by} `,
                  h('a', { class: 'btn', href: d.review ?? `/review/${encodeURIComponent(String(d.id))}`, 'data-review': String(d.id) }, `${t('review')} ›`),
                ),
              ),
            )
          : h('p', { class: 'quiet' }, t('noReviews')),
      );
    } catch (err) {
      // A box without drill reviews (404): no section.
      if (err instanceof ApiError && err.status === 404) drills.hidden = true;
      else drills.append(h('p', { class: 'problem' }, err instanceof Error ? err.message : String(err)));
    }
  }

  const form = h(
    'form',
    { class: 'filters', onsubmit: (e: Event) => (e.preventDefault(), void load(false)) },
    h('label', null, t('from'), since),
    h('label', null, t('to'), until),
    h('label', null, t('type'), type),
    h('label', null, t('zone'), zone),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn big primary', 'data-action': 'search' }, t('search')), csv),
  );
  const el = h('div', { class: 'log-screen' }, h('section', { class: 'card' }, form), h('section', { class: 'card' }, rows, more), drills);
  void load(false);
  void loadDrills();
  return {
    el,
    update(s) {
      const sig = s.zones.map((z) => z.id + z.name + z.name_en).join('|');
      if (sig === zonesDrawn) return;
      zonesDrawn = sig;
      const keep = zone.value;
      zone.replaceChildren(h('option', { value: '' }, t('any')), ...s.zones.map((z) => h('option', { value: z.id }, pick(z.name, z.name_en))));
      zone.value = keep;
    },
  };
}
