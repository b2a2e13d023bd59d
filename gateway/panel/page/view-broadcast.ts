/**
 * Broadcast: tap a template (the site's sentences: evacuate to the shelter by the route,
 * rainstorm warning, fire …, filled by the box) or write your own words; the second step says
 * what will be heard and lets the zones (all by default), the repeat count and the emergency
 * priority be changed before anything plays. Above: each broadcast's progress per zone, live,
 * with stop; below: the site's shelters and routes.
 */
import { button, h, keyed, patch } from './dom.ts';
import { clockTime } from './format.ts';
import { pick, priorityWord, t, type WordKey } from './i18n.ts';
import { commandButton, confirmSheet, placesFor, send, zoneName, type View, type ViewCtx } from './shared.ts';
import type { Broadcast, State, Template } from './types.ts';

export function broadcastView(ctx: ViewCtx): View {
  let repeat = ctx.config?.broadcast_repeat ?? 3;
  const maxRepeat = ctx.config?.broadcast_repeat_max ?? 10;
  let emergency = true;
  let textZh = '';
  let textEn = '';
  const chosen = new Set<string>(); // empty: every zone

  const templatesEl = h('div', { class: 'templates', 'data-part': 'templates' });
  const progressEl = h('div', { 'data-part': 'progress' });
  const placesEl = h('div');
  const officer = ctx.role === 'officer';
  const free = officer
    ? h(
        'section',
        { class: 'card', 'data-part': 'free' },
        h('h2', null, t('freeText')),
        h('label', null, t('freeTextZh'), h('textarea', { rows: 2, maxlength: 500, name: 'text_zh', oninput: (e: Event) => (textZh = (e.target as HTMLTextAreaElement).value) })),
        h('label', null, t('freeTextEn'), h('textarea', { rows: 2, maxlength: 500, name: 'text_en', oninput: (e: Event) => (textEn = (e.target as HTMLTextAreaElement).value) })),
        h('div', { class: 'actions' }, button(t('broadcastText'), () => textZh.trim() && start({ text_zh: textZh.trim(), ...(textEn.trim() ? { text_en: textEn.trim() } : {}) }, textZh.trim()), 'big primary', { 'data-action': 'broadcast-text' })),
      )
    : null;
  const progressCard = h('section', { class: 'card', 'data-part': 'progress-card', hidden: true }, h('h2', null, t('progress')), progressEl);
  // Templates first: on the 7-inch screen they show without scrolling (tab, template, confirm).
  const el = h(
    'div',
    { class: 'broadcast-screen' },
    progressCard,
    officer ? h('section', { class: 'card' }, h('h2', null, t('templates')), templatesEl) : h('p', { class: 'quiet' }, t('viewOnly')),
    free,
    placesEl,
  );

  /** Step two: what will be said, where and how often (changeable here), then confirm. */
  async function start(body: Record<string, unknown>, preview: string): Promise<void> {
    const s = ctx.live.state;
    if (!s) return;
    const zonesEl = h('div', { class: 'toggles', 'data-part': 'zones' });
    const repeatEl = h('div', { class: 'stepper', 'data-part': 'repeat' });
    const drawZones = (): void => {
      const zones = s.zones.filter((z) => z.id !== 'site');
      zonesEl.replaceChildren(
        button(t('allZones'), () => (chosen.clear(), drawZones()), 'toggle', { 'aria-pressed': String(chosen.size === 0), 'data-zone': '' }),
        ...zones.map((z) => button(pick(z.name, z.name_en), () => (chosen.has(z.id) ? chosen.delete(z.id) : chosen.add(z.id), drawZones()), 'toggle', { 'aria-pressed': String(chosen.has(z.id)), 'data-zone': z.id })),
      );
    };
    const drawRepeat = (): void => {
      repeatEl.replaceChildren(
        button('−', () => ((repeat = Math.max(1, repeat - 1)), drawRepeat()), 'square', { 'aria-label': '−', 'data-action': 'repeat-less' }),
        h('output', { class: 'count', 'data-repeat': String(repeat) }, t('times', { n: repeat })),
        button('+', () => ((repeat = Math.min(maxRepeat, repeat + 1)), drawRepeat()), 'square', { 'aria-label': '+', 'data-action': 'repeat-more' }),
      );
    };
    drawZones();
    drawRepeat();
    const ok = await confirmSheet(
      t('confirmBroadcast'),
      [
        h('p', { class: 'preview' }, preview),
        h('h3', null, t('zones')),
        zonesEl,
        h('div', { class: 'row' }, h('span', { class: 'label' }, t('repeat')), repeatEl),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: emergency, onchange: (e: Event) => (emergency = (e.target as HTMLInputElement).checked) }), t('emergency')),
      ],
      t('confirmGo'),
    );
    if (!ok) return;
    const zones = [...chosen];
    await send({ type: 'broadcast', ...body, ...(zones.length ? { zones } : {}), repeat, emergency });
  }

  function templateButton(tp: Template): HTMLElement {
    return button(
      [h('strong', null, pick(tp.name_zh, tp.name_en)), h('span', { class: 'template-text' }, pick(tp.text_zh, tp.text_en))],
      () => start({ template: tp.id }, pick(tp.text_zh, tp.text_en)),
      'template',
      { 'data-template': tp.id },
    );
  }

  function progressItem(s: State, b: Broadcast): HTMLElement {
    const zones = Object.entries(b.zones_state);
    const active = zones.some(([, st]) => st === 'queued' || st === 'playing');
    return h(
      'article',
      { class: `progress ${b.drill ? 'is-drill' : ''}`, 'data-activity': b.activity },
      h('p', { class: 'preview' }, b.text_zh),
      h('p', { class: 'quiet' }, `${b.started_at ? clockTime(b.started_at) : t('queued')} · ${b.by} · ${t('times', { n: b.repeat })}`),
      h('ul', { class: 'zone-progress' }, zones.map(([z, st]) => h('li', { class: `zp-${st}`, 'data-zone': z, 'data-state': st }, `${zoneName(s, z)}: ${t(st as WordKey)}`))),
      active ? commandButton(ctx, t('stop'), () => ({ type: 'stop', zones: b.zones }), 'big', { 'data-action': 'stop-broadcast' }) : null,
    );
  }

  return {
    el,
    update(s) {
      if (officer) {
        const templates = s.site.templates ?? [];
        patch(templatesEl, [templates, document.documentElement.lang], () => (templates.length ? templates.map(templateButton) : [h('p', { class: 'quiet' }, '—')]));
      }
      patch(placesEl, [s.site.shelters, s.site.routes, s.site.shelter, s.site.route], () => [placesFor(s.site, [])]);
      if (s.broadcasts) {
        // The box lists them oldest first: the newest on top.
        const list = [...s.broadcasts].reverse();
        progressCard.hidden = !list.length;
        patch(progressEl, 'list', () => [h('div', { class: 'progress-list' })]);
        keyed(progressEl.firstElementChild!, list, (b) => b.activity, (b) => progressItem(s, b));
      } else {
        // An older box: what each speaker is doing stands in for the per-zone progress.
        const speaking = s.actuators.filter((a) => a.kind === 'speaker' && a.doing.length);
        progressCard.hidden = !speaking.length;
        patch(progressEl, speaking.map((a) => [a.id, a.doing[0]]), () => [
          h('ul', { class: 'plain' }, speaking.map((a) => h('li', { class: 'busy-item', 'data-speaker': a.id }, h('strong', null, a.name || a.id), ` ${t('speaking')} · ${priorityWord(a.doing[0]!.priority)} · ${zoneName(s, a.doing[0]!.zone)}`))),
          commandButton(ctx, t('stop'), () => ({ type: 'stop' }), 'big', { 'data-action': 'stop-broadcast' }),
        ]);
      }
    },
  };
}
