/**
 * Sirens: what each one is doing, a test (a short blip, pattern `test`: one touch), the site's
 * named signals (two steps: the second says what will sound), silence; and drills (two steps)
 * with their end.
 */
import { button, h, patch } from './dom.ts';
import { duration } from './format.ts';
import { kindWord, pick, priorityWord, t } from './i18n.ts';
import { commandButton, confirmSheet, send, zoneName, type View, type ViewCtx } from './shared.ts';
import type { Pattern } from './types.ts';

const DRILL_KINDS = ['water_level', 'rain', 'smoke'] as const;

export function sirensView(ctx: ViewCtx): View {
  const list = h('section', { class: 'card', 'data-part': 'sirens' });
  const patterns = h('section', { class: 'card', 'data-part': 'patterns' });
  const drill = h('section', { class: 'card', 'data-part': 'drill' });
  const officer = ctx.role === 'officer';
  const el = h(
    'div',
    { class: 'sirens-screen' },
    list,
    officer
      ? h(
          'section',
          { class: 'card' },
          h(
            'div',
            { class: 'actions' },
            commandButton(ctx, t('sirenTest'), () => ({ type: 'siren', pattern: 'test' }), 'big primary', { 'data-action': 'siren-test' }),
            commandButton(ctx, t('silenceSirens'), () => ({ type: 'silence' }), 'big warn', { 'data-action': 'silence' }),
          ),
        )
      : h('p', { class: 'quiet' }, t('viewOnly')),
    officer ? patterns : null,
    officer ? drill : null,
  );

  function patternButton(p: Pattern): HTMLElement {
    const name = pick(p.name_zh, p.name_en);
    return button(
      [h('strong', null, name), h('span', { class: 'template-text' }, duration(p.total_s * 1000))],
      async () => {
        if (await confirmSheet(t('confirmSiren', { p: name }), [h('p', null, duration(p.total_s * 1000))], t('confirmSirenGo'))) await send({ type: 'siren', pattern: p.id });
      },
      'template',
      { 'data-pattern': p.id },
    );
  }

  return {
    el,
    update(s) {
      const sirens = s.actuators.filter((a) => a.kind === 'siren');
      patch(list, sirens.map((a) => [a.id, a.name, a.zones, a.doing[0]]), () => [
        h('h2', null, t('sirens')),
        h(
          'ul',
          { class: 'plain' },
          sirens.map((a) =>
            h(
              'li',
              { class: `siren ${a.doing.length ? 'on' : ''}`, 'data-siren': a.id },
              h('strong', null, a.name || a.id),
              ` · ${a.zones.map((z) => zoneName(s, z)).join('、')} · `,
              a.doing.length ? h('span', { class: 'bad' }, `${t('sounding')} (${priorityWord(a.doing[0]!.priority)})`) : t('sirenIdle'),
            ),
          ),
        ),
      ]);
      const ps = (ctx.config?.patterns ?? []).filter((p) => p.id !== 'test');
      patch(patterns, [ps, document.documentElement.lang], () => [h('h2', null, t('patterns')), h('div', { class: 'templates' }, ps.map(patternButton))]);
      patch(drill, [s.drill, document.documentElement.lang], () => [
        h('h2', null, t('drill')),
        s.drill
          ? h('div', { class: 'actions' }, commandButton(ctx, t('endDrill'), () => ({ type: 'drill_end' }), 'big', { 'data-action': 'drill-end' }))
          : h(
              'div',
              { class: 'actions' },
              DRILL_KINDS.map((k) =>
                button(
                  t('startDrill', { k: kindWord(k) }),
                  async () => {
                    if (await confirmSheet(t('confirmDrill'), [h('p', null, kindWord(k))], t('confirmDrillGo'), 'drill')) await send({ type: 'drill', kind: k });
                  },
                  'big',
                  { 'data-drill': k },
                ),
              ),
            ),
      ]);
    },
  };
}
