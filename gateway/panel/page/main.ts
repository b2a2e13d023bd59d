/**
 * The duty officer's page (issue 17): one page, routes in the hash (#/, #/alert/<id>,
 * #/broadcast, #/sirens, #/log) so the box serves one file and a reload keeps the screen.
 * Signed in, it follows the live stream and redraws the screen's changed parts; the top bar
 * shows the site, its level, the box's clock, the language switch; drill mode puts a banner
 * and a border on every screen.
 */
import { call, currentSession, setSignedOutHandler, signOut } from './api.ts';
import { button, h, patch } from './dom.ts';
import { boxNow, clockTime, since, siteLocal } from './format.ts';
import { currentLang, initLang, levelWord, pick, setLang, t } from './i18n.ts';
import { Live } from './live.ts';
import { levelClass, send, type View, type ViewCtx } from './shared.ts';
import type { PageConfig, SessionInfo } from './types.ts';
import { alertView } from './view-alert.ts';
import { broadcastView } from './view-broadcast.ts';
import { homeView } from './view-home.ts';
import { logView } from './view-log.ts';
import { signInView } from './view-signin.ts';
import { sirensView } from './view-sirens.ts';

const root = document.getElementById('app')!;
let live: Live | null = null;
let session: SessionInfo | null = null;
let config: PageConfig | null = null;
let view: View | null = null;
let viewKey = '';
let offLive: (() => void) | null = null;

const TABS: [string, 'home' | 'broadcast' | 'sirens' | 'log'][] = [
  ['#/', 'home'],
  ['#/broadcast', 'broadcast'],
  ['#/sirens', 'sirens'],
  ['#/log', 'log'],
];

function routeOf(hash: string): { key: string; make: (ctx: ViewCtx) => View; tab: string } {
  const m = /^#\/alert\/(.+)$/.exec(hash);
  if (m) {
    const id = decodeURIComponent(m[1]!);
    return { key: `alert:${id}`, make: (c) => alertView(c, id), tab: '#/' };
  }
  if (hash === '#/broadcast') return { key: 'broadcast', make: broadcastView, tab: hash };
  if (hash === '#/sirens') return { key: 'sirens', make: sirensView, tab: hash };
  if (hash === '#/log') return { key: 'log', make: logView, tab: hash };
  return { key: 'home', make: homeView, tab: '#/' };
}

function showSignIn(): void {
  live?.stop();
  live = null;
  session = null;
  view?.destroy?.();
  view = null;
  viewKey = '';
  offLive?.();
  offLive = null;
  document.body.classList.remove('drill');
  root.replaceChildren(signInView(start, showSignIn));
  document.title = t('app');
}

/** The frame around every screen: drill banner, connection warning, top bar, tabs, toast. */
function chrome(): { main: HTMLElement; update(): void } {
  const drill = h('div', { class: 'drill-banner', role: 'alert', 'data-part': 'drill-banner', hidden: true });
  const conn = h('div', { class: 'conn-banner', role: 'alert', hidden: true }, t('disconnected'));
  const site = h('span', { class: 'site-name' });
  const level = h('span', { class: 'chip' });
  const clock = h('span', { class: 'box-clock', 'data-clock': '' });
  // While a siren sounds, silencing it is one touch from every screen (logged with who).
  const hush = session!.role === 'officer' ? button(t('silence'), () => send({ type: 'silence' }), 'small warn', { 'data-action': 'silence-top', hidden: true }) : null;
  const top = h(
    'header',
    { class: 'top' },
    site,
    level,
    h('span', { class: 'spacer' }),
    hush,
    clock,
    h('span', { class: 'who' }, session!.username),
    button(t('langSwitch'), () => {
      setLang(currentLang() === 'zh' ? 'en' : 'zh');
      render(true);
    }, 'small', { 'data-action': 'lang' }),
    button(t('signOut'), async () => {
      await signOut().catch(() => undefined);
      showSignIn();
    }, 'small', { 'data-action': 'sign-out' }),
  );
  const tabs = h('nav', { class: 'tabs' }, TABS.map(([href, k]) => h('a', { href, 'data-tab': k }, t(k))));
  const main = h('main', { id: 'view' });
  const toastEl = h('div', { id: 'toast', class: 'toast', role: 'status', 'aria-live': 'polite' });
  root.replaceChildren(h('div', { class: 'frame' }, drill, conn, top, main, tabs), toastEl);
  return {
    main,
    update() {
      const s = live?.state;
      conn.hidden = !!live?.connected;
      if (!s) return;
      site.textContent = pick(s.site.name, s.site.name_en);
      level.className = `chip ${levelClass(s.level)}`;
      level.textContent = levelWord(s.level);
      document.title = `${s.level ? `【${levelWord(s.level)}】` : ''}${pick(s.site.name, s.site.name_en)} · ${t('app')}`;
      document.body.classList.toggle('drill', !!s.drill);
      if (hush) hush.hidden = !s.actuators.some((a) => a.kind === 'siren' && a.doing.length > 0);
      drill.hidden = !s.drill;
      patch(drill, [s.drill, currentLang(), session?.role], () =>
        s.drill
          ? [
              h('strong', null, t('drillBanner')),
              h('span', { class: 'drill-by' }, t('drillBy', { by: s.drill.by, since: clockTime(s.drill.since) })),
              session?.role === 'officer' ? button(t('endDrill'), () => send({ type: 'drill_end' }), 'small', { 'data-action': 'drill-end' }) : null,
            ]
          : [],
      );
      const tab = routeOf(location.hash).tab;
      for (const a of tabs.querySelectorAll('a')) a.classList.toggle('active', a.getAttribute('href') === tab);
    },
  };
}

let frame: ReturnType<typeof chrome> | null = null;

function render(rebuild = false): void {
  if (!session || !live) return;
  const r = routeOf(location.hash);
  if (rebuild || !frame) {
    view?.destroy?.();
    view = null;
    viewKey = '';
    frame = chrome();
  }
  if (r.key !== viewKey) {
    view?.destroy?.();
    const ctx: ViewCtx = { live, role: session.role, config, go: (hash) => (location.hash = hash) };
    view = r.make(ctx);
    viewKey = r.key;
    frame.main.replaceChildren(view.el);
    frame.main.scrollTop = 0;
  }
  // One broken part must not leave the rest of the screen stale: say it, keep going.
  try {
    frame.update();
    if (live.state) view?.update(live.state);
  } catch (err) {
    console.error('panel: a part of the screen could not be drawn', err);
  }
  tick();
}

/** Every second: the box's clock and every "how long" on screen, in place. */
function tick(): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-clock]')) el.textContent = siteLocal(boxNow()).slice(11, 19);
  for (const el of document.querySelectorAll<HTMLElement>('[data-since]')) {
    const at = el.dataset.since;
    if (!at) continue;
    el.textContent = el.dataset.format === 'since' ? t('clockWaiting', { t: since(at) }) : t('since', { t: since(at) });
  }
}

async function start(s: SessionInfo): Promise<void> {
  session = s;
  frame = null;
  live = new Live();
  offLive = live.onChange(() => render());
  live.start();
  render(true);
  try {
    config = await call<PageConfig>('GET', '/api/page-config');
    render(true);
  } catch {
    config = null;
  }
}

async function boot(): Promise<void> {
  initLang();
  setSignedOutHandler(() => session && showSignIn());
  window.addEventListener('hashchange', () => render());
  window.setInterval(tick, 1000);
  try {
    const s = await currentSession();
    if (s) await start(s);
    else showSignIn();
  } catch {
    showSignIn();
  }
}

void boot();
