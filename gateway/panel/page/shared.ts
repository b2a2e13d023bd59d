/**
 * What the screens share: the view contract, level colours, zone names, the shelters and
 * routes of some zones, command buttons with their answer shown, and the two-step confirmation.
 */
import { ApiError, command, type CommandAnswer } from './api.ts';
import { button, h, type Child } from './dom.ts';
import { currentLang, levelWord, pick, t } from './i18n.ts';
import type { Live } from './live.ts';
import type { Level, PageConfig, Shelter, Site, State } from './types.ts';

export interface ViewCtx {
  live: Live;
  role: 'officer' | 'observer';
  config: PageConfig | null;
  go(hash: string): void;
}

export interface View {
  el: HTMLElement;
  update(s: State): void;
  destroy?(): void;
}

export const levelClass = (l: Level | null): string => `lv-${l ?? 'none'}`;

export function levelChip(l: Level | null): HTMLElement {
  return h('span', { class: `chip ${levelClass(l)}` }, levelWord(l));
}

export function zoneName(s: State, id: string): string {
  const z = s.zones.find((x) => x.id === id);
  return z ? pick(z.name, z.name_en) || id : id;
}

export const alertHref = (id: string): string => `#/alert/${encodeURIComponent(id)}`;

/** The message at the bottom of the screen after a command (or an error). */
export function toast(text: string, kind: 'ok' | 'bad' = 'ok'): void {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = text;
  el.className = `toast show ${kind}`;
  const n = (Number(el.dataset.n ?? 0) + 1).toString();
  el.dataset.n = n;
  window.setTimeout(() => {
    if (el.dataset.n === n) el.className = 'toast';
  }, 4000);
}

/** Sends a command and says what became of it. */
export async function send(body: Record<string, unknown>): Promise<CommandAnswer | null> {
  try {
    const a = await command(body);
    if (a.ok) toast(t('sent'));
    else toast(t('refused', { e: a.error ?? '' }), 'bad');
    return a;
  } catch (err) {
    toast(t('failedSend', { e: err instanceof ApiError || err instanceof Error ? err.message : String(err) }), 'bad');
    return null;
  }
}

/** A command button, for officers only (observers see none). */
export function commandButton(ctx: ViewCtx, label: string, body: () => Record<string, unknown>, cls = '', attrs: Record<string, unknown> = {}): HTMLButtonElement | null {
  if (ctx.role !== 'officer') return null;
  return button(label, () => send(body()), cls, attrs);
}

/**
 * The second step of a command that makes the village hear something: a sheet over the
 * screen saying what will happen, with a large confirm and a cancel. Resolves true on confirm.
 */
export function confirmSheet(title: string, lines: Child[], go: string, cls = 'danger'): Promise<boolean> {
  return new Promise((resolve) => {
    const close = (v: boolean): void => {
      sheet.remove();
      document.removeEventListener('keydown', onKey);
      resolve(v);
    };
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') close(false);
    };
    const sheet = h(
      'div',
      { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-label': title },
      h(
        'div',
        { class: 'sheet' },
        h('h2', null, title),
        h('div', { class: 'sheet-body' }, lines),
        h('div', { class: 'actions' }, button(go, () => close(true), `big ${cls}`, { 'data-confirm': 'yes' }), button(t('cancel'), () => close(false), 'big', { 'data-confirm': 'no' })),
      ),
    );
    document.addEventListener('keydown', onKey);
    document.body.append(sheet);
  });
}

/**
 * The shelters of `zones` and the routes to them (every shelter for the whole site), as the
 * box picks a zone's shelter (config/places.ts): the first listing the zone, else the first
 * listing no zones, else the first. The site's one shelter and route when the box lists none.
 */
export function placesFor(site: Site, zones: string[]): HTMLElement {
  const all = zones.length === 0 || zones.includes('site');
  const list = site.shelters ?? [];
  const ofZone = (z: string): Shelter | undefined => list.find((x) => x.zones?.includes(z)) ?? list.find((x) => x.zones === null) ?? list[0];
  const shelters = all ? list : [...new Set(zones.map(ofZone).filter((x): x is Shelter => !!x))];
  const rows: Child[] = [];
  if (shelters.length) {
    for (const sh of shelters) {
      const routes = (site.routes ?? []).filter((r) => r.shelter === sh.id);
      rows.push(
        h(
          'li',
          { class: 'place' },
          h('span', { class: 'place-kind' }, t('shelter')),
          h('strong', null, pick(sh.zh, sh.en)),
          routes.map((r) => h('div', { class: 'route' }, h('span', { class: 'place-kind' }, t('route')), pick(r.zh, r.en))),
        ),
      );
    }
  } else {
    rows.push(h('li', { class: 'place' }, h('span', { class: 'place-kind' }, t('shelter')), h('strong', null, pick(site.shelter.zh, site.shelter.en))));
    rows.push(h('li', { class: 'place' }, h('span', { class: 'place-kind' }, t('route')), h('strong', null, pick(site.route.zh, site.route.en))));
  }
  return h('section', { class: 'card places', 'data-part': 'places' }, h('h2', null, t('sheltersRoutes')), h('ul', { class: 'plain' }, rows));
}

export const isZh = (): boolean => currentLang() === 'zh';
