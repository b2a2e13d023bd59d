/**
 * Home: the site at a glance. Each zone's colour (its highest active level), the active
 * alerts in words with their acknowledge button (one touch after sign-in), what the sirens
 * and speakers are doing (with silence / stop), sensors in fault, and the township link and
 * storage.
 */
import { h, keyed, patch } from './dom.ts';
import { bytes, clockTime } from './format.ts';
import { kindWord, levelWord, other, pick, priorityWord, t } from './i18n.ts';
import { alertHref, commandButton, levelChip, levelClass, zoneName, type View, type ViewCtx } from './shared.ts';
import type { Actuator, Alert, State } from './types.ts';

const RANK = { info: 0, blue: 1, yellow: 2, orange: 3, red: 4 } as const;

export function byUrgency(a: Alert, b: Alert): number {
  return RANK[b.level] - RANK[a.level] || (a.raised_at ?? '').localeCompare(b.raised_at ?? '');
}

export function alertCard(ctx: ViewCtx, s: State, a: Alert): HTMLElement {
  const ack = a.acknowledged_by
    ? h('span', { class: 'acked' }, t('acked', { by: a.acknowledged_by }))
    : commandButton(ctx, t('ack'), () => ({ type: 'ack', alert: a.alert }), 'big primary', { 'data-action': 'ack' });
  const raised = a.response_clock?.raised_at ?? a.raised_at ?? null;
  return h(
    'article',
    { class: `alert ${levelClass(a.level)}`, 'data-alert': a.alert },
    h('div', { class: 'alert-head' }, levelChip(a.level), h('span', { class: 'kind' }, kindWord(a.kind)), h('span', { class: 'where' }, zoneName(s, a.zone)), h('span', { class: 'age', 'data-since': raised ?? '' }, '')),
    h('p', { class: 'sentence' }, pick(a.text_zh, a.text_en)),
    other(a.text_zh, a.text_en) && h('p', { class: 'sentence-other' }, other(a.text_zh, a.text_en)),
    h('div', { class: 'actions' }, ack, h('a', { class: 'btn big', href: alertHref(a.alert), 'data-action': 'details' }, `${t('details')} ›`)),
  );
}

function busyLine(s: State, a: Actuator): HTMLElement {
  const d = a.doing[0]!;
  const what = a.kind === 'siren' ? t('sounding') : t('speaking');
  return h(
    'li',
    { class: `busy-item ${d.drill ? 'is-drill' : ''}` },
    h('strong', null, a.name || a.id),
    ` ${what} · ${priorityWord(d.priority)} · ${zoneName(s, d.zone)}`,
    d.alert ? h('a', { href: alertHref(d.alert), class: 'inline-link' }, ` ${t('details')} ›`) : null,
  );
}

export function homeView(ctx: ViewCtx): View {
  const zones = h('div', { class: 'zones', 'data-part': 'zones' });
  const alerts = h('div', { class: 'alert-list', 'data-part': 'alerts' });
  const clear = h('p', { class: 'all-clear', hidden: true }, t('allClear'));
  const busy = h('section', { class: 'card', 'data-part': 'busy' });
  const faults = h('section', { class: 'card', 'data-part': 'faults' });
  const status = h('section', { class: 'card', 'data-part': 'status' });
  const el = h(
    'div',
    { class: 'home' },
    h('div', { class: 'home-main' }, h('h2', { class: 'section-title' }, t('alerts')), clear, alerts),
    h('div', { class: 'home-side' }, zones, busy, faults, status),
  );
  return {
    el,
    update(s) {
      const sorted = [...s.alerts].sort(byUrgency);
      keyed(alerts, sorted, (a) => a.alert, (a) => alertCard(ctx, s, a));
      clear.hidden = sorted.length > 0;
      const topOf = (zone: string): Alert | undefined => sorted.find((a) => a.zone === zone) ?? sorted.find((a) => a.zone === 'site');
      patch(zones, s.zones.map((z) => [z.id, z.level, z.name, z.name_en, topOf(z.id)?.alert]), () =>
        s.zones.map((z) => {
          const top = topOf(z.id);
          const body = [h('span', { class: 'zone-name' }, pick(z.name, z.name_en)), h('span', { class: 'zone-level' }, levelWord(z.level))];
          return top ? h('a', { class: `zone ${levelClass(z.level)}`, href: alertHref(top.alert), 'data-zone': z.id }, body) : h('div', { class: `zone ${levelClass(z.level)}`, 'data-zone': z.id }, body);
        }),
      );
      const doing = s.actuators.filter((a) => a.doing.length);
      const sirensOn = doing.some((a) => a.kind === 'siren');
      patch(busy, [doing.map((a) => [a.id, a.doing[0]]), ctx.role], () => [
        h('h2', null, t('busyNow')),
        doing.length ? h('ul', { class: 'plain' }, doing.map((a) => busyLine(s, a))) : h('p', { class: 'quiet' }, t('nothingSounding')),
        doing.length
          ? h('div', { class: 'actions' }, sirensOn && commandButton(ctx, t('silenceSirens'), () => ({ type: 'silence' }), 'big warn', { 'data-action': 'silence' }), commandButton(ctx, t('stopAll'), () => ({ type: 'stop' }), 'big', { 'data-action': 'stop' }))
          : null,
      ]);
      // A siren or speaker is listed while its latest report is a fault (a later `done` or state
      // report means it works again); sensor and self-test faults are the engine's fault alerts.
      const broken = s.actuators.filter((a) => a.last_report?.report === 'fault' && a.last_fault);
      patch(faults, [s.faults.map((f) => [f.alert, f.text_zh, f.text_en]), broken.map((a) => [a.id, a.last_fault!.at])], () => [
        h('h2', null, t('faults')),
        s.faults.length || broken.length
          ? h('ul', { class: 'plain' }, [
              ...s.faults.map((f) => h('li', { class: 'fault' }, pick(f.text_zh, f.text_en))),
              ...broken.map((a) => h('li', { class: 'fault', 'data-actuator': a.id }, `${a.name}:${pick(a.last_fault!.text_zh ?? a.last_fault!.reason ?? '', a.last_fault!.text_en ?? a.last_fault!.reason ?? '')} (${clockTime(a.last_fault!.at)})`)),
            ])
          : h('p', { class: 'quiet' }, t('noFaults')),
      ]);
      const up = s.uplink;
      const upText = !up ? t('uplinkNone') : up.online ? t('uplinkOnline') : t('uplinkOffline', { n: up.events_waiting });
      const diskText = s.storage.degraded ? t('degraded', { reason: pick(s.storage.reason_zh ?? s.storage.reason ?? '', s.storage.reason_en ?? s.storage.reason ?? '') }) : s.disk ? t('diskFree', { free: bytes(s.disk.free_bytes), total: bytes(s.disk.total_bytes) }) : t('diskUnknown');
      patch(status, [upText, diskText, s.engine_running, s.problems, up?.offline_since], () => [
        h('h2', null, t('status')),
        !s.engine_running && h('p', { class: 'problem' }, t('engineStopped')),
        h('dl', { class: 'facts' }, h('dt', null, t('uplink')), h('dd', { class: up && !up.online ? 'bad' : '' }, upText, up && !up.online && up.offline_since ? ` (${clockTime(up.offline_since)})` : ''), h('dt', null, t('disk')), h('dd', { class: s.storage.degraded ? 'bad' : '' }, diskText)),
        s.problems.length ? h('ul', { class: 'plain' }, (s.problem_texts ?? s.problems.map((p) => ({ code: p, text_zh: p, text_en: p }))).map((p) => h('li', { class: 'problem', 'data-problem': p.code }, pick(p.text_zh, p.text_en)))) : null,
      ]);
    },
  };
}
