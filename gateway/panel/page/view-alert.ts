/**
 * One alert: its sentence, the response clock (raised → acknowledged → broadcast started →
 * escalated → the township's answer, live), the readings that proved it (the values of its
 * transitions in the log), a chart of the last 24 h of its sensors, the smoke detectors of its
 * zone, the shelters and routes of its zone, and the officer's buttons: acknowledge, silence,
 * stop, escalate to the township (吹哨, with a message, two steps).
 */
import type uPlot from 'uplot';
import { call } from './api.ts';
import { destroyChart, levelChart, rainChart } from './chart.ts';
import { button, h, patch } from './dom.ts';
import { clockTime, num, siteLocal, siteOffset } from './format.ts';
import { kindWord, other, pick, t, type WordKey } from './i18n.ts';
import { commandButton, confirmSheet, levelChip, levelClass, placesFor, send, zoneName, type View, type ViewCtx } from './shared.ts';
import type { Alert, History, LoggedEvent, Sensor, State } from './types.ts';

const SMOKE_WORDS: Record<string, [string, string]> = {
  normal: ['正常', 'normal'],
  alarm: ['报警', 'ALARM'],
  dirty: ['需清洁', 'dirty'],
  removed: ['被拆除', 'removed'],
  low_battery: ['电量低', 'low battery'],
  tamper: ['被拆动', 'tampered'],
};
const SMOKE_STATES = ['normal', 'alarm', 'dirty', 'removed', 'low_battery', 'tamper'];

const VALUE_WORDS: Record<string, [string, string]> = {
  rain_1h_mm: ['1 小时雨量', '1 h rain'],
  rain_3h_mm: ['3 小时雨量', '3 h rain'],
  rain_6h_mm: ['6 小时雨量', '6 h rain'],
  rain_12h_mm: ['12 小时雨量', '12 h rain'],
  rain_24h_mm: ['24 小时雨量', '24 h rain'],
  water_level_m: ['水位', 'water level'],
  attention_m: ['关注水位', 'attention stage'],
  warning_m: ['警戒水位', 'warning stage'],
  guaranteed_m: ['保证水位', 'guaranteed stage'],
  historical_max_m: ['历史最高水位', 'historical maximum'],
  rise_m: ['上涨', 'rise'],
  rise_window_min: ['上涨时段(分钟)', 'rise window (min)'],
  detectors: ['烟感', 'detectors'],
  alarming: ['报警的烟感数', 'detectors alarming'],
  state: ['状态', 'state'],
  value: ['读数', 'value'],
  min: ['下限', 'minimum'],
  max: ['上限', 'maximum'],
  unchanged_s: ['未变化(秒)', 'unchanged (s)'],
  silent_s: ['无数据(秒)', 'silent (s)'],
};

function smokeWord(v: number | null, zh: boolean): string {
  const name = v === null ? null : SMOKE_STATES[v];
  return name ? SMOKE_WORDS[name]![zh ? 0 : 1] : '—';
}

function valueLine(k: string, v: unknown, zh: boolean): string {
  const w = VALUE_WORDS[k]?.[zh ? 0 : 1] ?? k.replace(/_/g, ' ');
  const unit = k.endsWith('_mm') ? ' mm' : k.endsWith('_m') ? ' m' : '';
  return `${w} ${typeof v === 'number' ? num(v, 2) : typeof v === 'string' ? v : JSON.stringify(v)}${unit}`;
}

function sensorNow(s: Sensor, zh: boolean): string {
  if (s.kind === 'smoke') return smokeWord(s.value, zh);
  return `${num(s.value, 2)} ${s.kind === 'rain' ? 'mm' : 'm'}`;
}

/** The steps of the response clock, each with its time and how long after the raise. */
function clockSteps(a: Alert): HTMLElement {
  const c = a.response_clock;
  const raised = c?.raised_at ?? a.raised_at ?? null;
  const steps: [WordKey, string | null, string | null][] = [
    ['clockRaised', raised, null],
    ['clockAck', c?.acknowledged_at ?? null, c?.acknowledged_by ?? a.acknowledged_by],
    ['clockBroadcast', c?.broadcast_at ?? null, null],
    ['clockEscalated', c?.escalated_at ?? null, null],
    ['clockTownship', c?.township_ack_at ?? null, null],
  ];
  const first = steps.findIndex(([, at]) => at === null);
  return h(
    'ol',
    { class: 'clock-steps', 'data-part': 'clock' },
    steps.map(([k, at, who], i) =>
      h(
        'li',
        { class: at ? 'done' : i === first ? 'next' : 'todo', 'data-step': k },
        h('span', { class: 'step-name' }, t(k)),
        h('span', { class: 'step-time' }, at ? clockTime(at) : '—'),
        at && raised && i > 0 ? h('span', { class: 'step-after' }, `+${Math.max(0, Math.round((Date.parse(at) - Date.parse(raised)) / 1000))} s`) : null,
        who ? h('span', { class: 'step-who' }, who) : null,
        !at && i === first && raised ? h('span', { class: 'step-wait', 'data-since': raised, 'data-format': 'since' }, '') : null,
      ),
    ),
  );
}

export function alertView(ctx: ViewCtx, id: string): View {
  const head = h('section', { class: 'alert-detail' });
  const clock = h('section', { class: 'card' });
  const evidence = h('section', { class: 'card', 'data-part': 'evidence' });
  const charts = h('section', { class: 'card', 'data-part': 'chart' });
  const detectors = h('section', { class: 'card', 'data-part': 'detectors', hidden: true });
  const places = h('div');
  const escalateBox = h('div', { class: 'escalate', hidden: true });
  const el = h('div', { class: 'alert-screen' }, h('a', { class: 'btn back', href: '#/' }, `‹ ${t('back')}`), head, escalateBox, clock, evidence, charts, detectors, places);
  const zh = document.documentElement.lang !== 'en';
  let alert: Alert | null = null;
  let transitions: LoggedEvent[] = [];
  let plots: uPlot[] = [];
  let loadedCharts = false;
  let timer: number | null = null;
  let escalateText = '';

  async function loadEvidence(a: Alert): Promise<void> {
    const raised = Date.parse(a.response_clock?.raised_at ?? a.raised_at ?? '');
    const since = Number.isFinite(raised) ? `&since=${encodeURIComponent(`${siteLocal(raised - 60_000)}${siteOffset()}`)}` : '';
    try {
      const r = await call<{ events: LoggedEvent[] }>('GET', `/api/events?type=transition&zone=${encodeURIComponent(a.zone)}&limit=1000${since}`);
      transitions = r.events.filter((e) => e.alert === a.alert);
    } catch {
      transitions = [];
    }
    drawEvidence();
  }

  function drawEvidence(): void {
    if (!alert || !ctx.live.state) return;
    const s = ctx.live.state;
    const sensors = alert.sensors.map((sid) => s.sensors.find((x) => x.id === sid)).filter((x): x is Sensor => !!x);
    patch(evidence, [transitions.map((e) => e.seq), sensors.map((x) => [x.id, x.value, x.quality]), zh], () => [
      h('h2', null, t('evidence')),
      h(
        'ul',
        { class: 'plain evidence' },
        transitions.map((e) =>
          h(
            'li',
            null,
            h('span', { class: 'ev-time' }, clockTime(e.at)),
            ' ',
            levelChip((e.level as Alert['level']) ?? null),
            ' ',
            pick(e.text_zh as string, e.text_en as string),
            e.values && typeof e.values === 'object' ? h('div', { class: 'values' }, Object.entries(e.values as Record<string, unknown>).map(([k, v]) => h('span', { class: 'value' }, valueLine(k, v, zh)))) : null,
          ),
        ),
      ),
      h('dl', { class: 'facts' }, sensors.map((x) => [h('dt', null, `${t('current')} · ${x.name || x.id}`), h('dd', null, sensorNow(x, zh), x.quality && x.quality !== 'good' ? ` (${x.quality})` : '')])),
    ]);
  }

  async function loadCharts(a: Alert): Promise<void> {
    const sensors = a.sensors.map((sid) => ctx.live.state?.sensors.find((x) => x.id === sid)).filter((x): x is Sensor => !!x && x.kind !== 'smoke');
    if (!sensors.length) {
      charts.hidden = true;
      return;
    }
    const hists = await Promise.all(sensors.map((x) => call<History>('GET', `/api/sensors/${encodeURIComponent(x.id)}/history?hours=24`).catch(() => null)));
    for (const p of plots) destroyChart(p);
    plots = [];
    charts.replaceChildren(h('h2', null, `${t('chart24')}`));
    let any = false;
    for (const hist of hists) {
      if (!hist) continue;
      const box = h('div', { class: 'chart', 'data-chart': hist.sensor });
      charts.append(h('h3', null, hist.name || hist.sensor), box);
      const p = hist.kind === 'rain' ? rainChart(box, hist) : levelChart(box, hist);
      if (p) {
        plots.push(p);
        any = true;
      } else box.replaceWith(h('p', { class: 'quiet' }, t('noHistory')));
    }
    charts.hidden = false;
    if (!any) charts.dataset.empty = '1';
  }

  function openEscalate(a: Alert): void {
    escalateText = t('escalateDefault', { text: pick(a.text_zh, a.text_en) }).slice(0, 280);
    const area = h('textarea', { rows: 3, maxlength: 280, 'aria-label': t('escalateText'), value: escalateText, oninput: (e: Event) => (escalateText = (e.target as HTMLTextAreaElement).value) });
    escalateBox.replaceChildren(
      h('h2', null, t('escalate')),
      h('label', null, t('escalateText'), area),
      h(
        'div',
        { class: 'actions' },
        button(
          t('send'),
          async () => {
            const text = escalateText.trim();
            if (!text) return;
            if (!(await confirmSheet(t('escalate'), [h('p', null, text)], t('send')))) return;
            const r = await send({ type: 'escalate', alert: a.alert, text });
            if (r?.ok) escalateBox.hidden = true;
          },
          'big danger',
          { 'data-action': 'escalate-send' },
        ),
        button(t('cancel'), () => void (escalateBox.hidden = true), 'big'),
      ),
    );
    escalateBox.hidden = false;
    area.focus();
  }

  // A new transition of this alert (escalated to red, acknowledged) adds to the evidence.
  const unsubscribe = ctx.live.onEvent((e) => {
    if (e.type === 'transition' && e.alert === id) {
      transitions = [...transitions, e];
      drawEvidence();
    }
  });

  return {
    el,
    update(s: State) {
      const a = s.alerts.find((x) => x.alert === id) ?? s.faults.find((x) => x.alert === id) ?? null;
      if (!a) {
        alert = null;
        patch(head, 'gone', () => [h('p', { class: 'all-clear' }, t('gone'))]);
        clock.hidden = true;
        escalateBox.hidden = true;
        return;
      }
      const first = alert === null;
      alert = a;
      clock.hidden = false;
      patch(head, [a, ctx.role, zh], () => [
        h(
          'div',
          { class: `alert ${levelClass(a.level)}` },
          h('div', { class: 'alert-head' }, levelChip(a.level), h('span', { class: 'kind' }, kindWord(a.kind)), h('span', { class: 'where' }, zoneName(s, a.zone)), h('span', { class: 'age', 'data-since': a.response_clock?.raised_at ?? a.raised_at ?? '' }, '')),
          h('p', { class: 'sentence' }, pick(a.text_zh, a.text_en)),
          other(a.text_zh, a.text_en) && h('p', { class: 'sentence-other' }, other(a.text_zh, a.text_en)),
          h(
            'div',
            { class: 'actions' },
            a.acknowledged_by ? h('span', { class: 'acked' }, t('acked', { by: a.acknowledged_by })) : commandButton(ctx, t('ack'), () => ({ type: 'ack', alert: a.alert }), 'big primary', { 'data-action': 'ack' }),
            commandButton(ctx, t('silence'), () => ({ type: 'silence' }), 'big warn', { 'data-action': 'silence' }),
            commandButton(ctx, t('stop'), () => ({ type: 'stop' }), 'big', { 'data-action': 'stop' }),
            a.kind !== 'fault' && ctx.role === 'officer' ? button(t('escalate'), () => openEscalate(a), 'big danger', { 'data-action': 'escalate' }) : null,
          ),
        ),
      ]);
      patch(clock, [a.response_clock, a.acknowledged_by, zh], () => [h('h2', null, t('clock')), clockSteps(a)]);
      const zoneSmoke = s.sensors.filter((x) => x.kind === 'smoke' && x.zone === a.zone);
      detectors.hidden = !zoneSmoke.length;
      patch(detectors, zoneSmoke.map((x) => [x.id, x.value, x.level, x.fault?.alert]), () => [
        h('h2', null, t('detectors')),
        h('dl', { class: 'facts' }, zoneSmoke.map((x) => [h('dt', null, x.name || x.id), h('dd', { class: x.value === 1 ? 'bad' : '' }, smokeWord(x.value, zh), x.fault ? ` · ${pick(x.fault.text_zh, x.fault.text_en)}` : '')])),
      ]);
      patch(places, [s.site.shelters, s.site.routes, s.site.shelter, s.site.route, a.zone], () => [placesFor(s.site, [a.zone])]);
      drawEvidence();
      if (first) {
        void loadEvidence(a);
        if (!loadedCharts) {
          loadedCharts = true;
          void loadCharts(a);
          // Rollups land each minute: the chart follows.
          timer = window.setInterval(() => alert && void loadCharts(alert), 60_000);
        }
      }
    },
    destroy() {
      if (timer !== null) clearInterval(timer);
      for (const p of plots) destroyChart(p);
      plots = [];
      unsubscribe();
    },
  };
}
