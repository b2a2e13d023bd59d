/**
 * The alert screen's 24 h charts (uPlot, bundled: no network). Rain: the rain of each hour as
 * steps and the rolling 1/3/6/12/24 h sums as lines, against the rule thresholds (dashed, in
 * their level's colour). Water level: the level against its stages. Times on the axis are the
 * site's, whatever this device's time zone.
 */
import uPlot from 'uplot';
import { h } from './dom.ts';
import { offsetMs } from './format.ts';
import { levelWord, t } from './i18n.ts';
import type { History, Level } from './types.ts';

export const LEVEL_COLOUR: Record<Level, string> = { info: '#546e7a', blue: '#1565c0', yellow: '#c9a400', orange: '#ef6c00', red: '#c62828' };
const SUM_COLOURS = ['#6a1b9a', '#c62828', '#ef6c00', '#2e7d32', '#37474f'];
const FONT = '14px "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", sans-serif';

interface Line {
  value: number;
  colour: string;
  label: string;
}

const secs = (iso: string): number => Date.parse(iso) / 1000;

function siteDate(ts: number): Date {
  const d = new Date(ts * 1000);
  return new Date(d.getTime() + offsetMs() + d.getTimezoneOffset() * 60_000);
}

/** Horizontal lines (thresholds, stages) drawn over the plot, labelled at their left end. */
/** 24-hour site time on the axis (`14:00`), the date at midnight (`7/20`): not uPlot's `2pm`. */
function axisTime(ts: number): string {
  const d = siteDate(ts);
  const hh = d.getHours();
  const mm = d.getMinutes();
  if (hh === 0 && mm === 0) return `${d.getMonth() + 1}/${d.getDate()}`;
  return `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
}

function linesHook(lines: Line[]) {
  return (u: uPlot): void => {
    const { ctx, bbox } = u;
    const dpr = window.devicePixelRatio || 1;
    for (const l of lines) {
      const y = Math.round(u.valToPos(l.value, 'y', true));
      if (y < bbox.top || y > bbox.top + bbox.height) continue;
      ctx.save();
      ctx.strokeStyle = l.colour;
      ctx.lineWidth = 2 * dpr;
      ctx.setLineDash([8 * dpr, 6 * dpr]);
      ctx.beginPath();
      ctx.moveTo(bbox.left, y);
      ctx.lineTo(bbox.left + bbox.width, y);
      ctx.stroke();
      ctx.fillStyle = l.colour;
      ctx.textAlign = 'left'; // uPlot leaves its axes' alignment on the context
      ctx.textBaseline = 'bottom';
      ctx.font = `bold ${13 * dpr}px "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif`;
      ctx.fillText(l.label, bbox.left + 6 * dpr, y - 5 * dpr);
      ctx.restore();
    }
  };
}

function size(el: HTMLElement): { width: number; height: number } {
  return { width: Math.max(280, el.clientWidth - 8), height: window.innerHeight < 600 ? 210 : 300 };
}

function make(el: HTMLElement, series: uPlot.Series[], data: uPlot.AlignedData, lines: Line[], unit: string): uPlot {
  const top = Math.max(0, ...lines.map((l) => l.value), ...data.slice(1).flatMap((s) => (s as (number | null)[]).filter((v): v is number => typeof v === 'number')));
  const u = new uPlot(
    {
      ...size(el),
      tzDate: siteDate,
      series: [{}, ...series],
      scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(top, max ?? 0) * 1.15 || 1] } },
      axes: [{ font: FONT, stroke: '#222', values: (_u, splits) => splits.map(axisTime) }, { font: FONT, stroke: '#222', label: unit, labelFont: FONT, size: 56 }],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [linesHook(lines)] },
    },
    data,
    el,
  );
  // The lines in words too: read at a glance, and there for a screen reader.
  if (lines.length) el.append(h('ul', { class: 'chart-lines', 'data-part': 'chart-lines' }, lines.map((l) => {
      const li = h('li', null, l.label);
      li.style.borderColor = l.colour; // CSSOM: the CSP allows no style attributes
      return li;
    })));
  const ro = new ResizeObserver(() => u.setSize(size(el)));
  ro.observe(el);
  (u as uPlot & { _ro?: ResizeObserver })._ro = ro;
  return u;
}

export function destroyChart(u: uPlot | null): void {
  if (!u) return;
  (u as uPlot & { _ro?: ResizeObserver })._ro?.disconnect();
  u.destroy();
}

/** Null when the box sends no hourly and rolling figures (an older box): the screen hides the chart. */
export function rainChart(el: HTMLElement, hist: History): uPlot | null {
  if (!hist.hourly || !hist.rolling || (!hist.hourly.length && !hist.rolling.length)) return null;
  const hourly: uPlot.AlignedData = [hist.hourly.map((r) => secs(r.at)), hist.hourly.map((r) => r.mm)];
  const keys = ['sum_1h_mm', 'sum_3h_mm', 'sum_6h_mm', 'sum_12h_mm', 'sum_24h_mm'] as const;
  const rolling: uPlot.AlignedData = [hist.rolling.map((r) => secs(r.at)), ...keys.map((k) => hist.rolling!.map((r) => r[k]))];
  const data = uPlot.join([hourly, rolling]);
  const series: uPlot.Series[] = [
    { label: t('rainHourly'), stroke: '#1565c0', fill: 'rgba(21,101,192,0.25)', width: 2, spanGaps: true, paths: uPlot.paths.stepped!({ align: 1 }), points: { show: false } },
    ...[1, 3, 6, 12, 24].map((hours, i) => ({ label: t('rainSum', { h: hours }), stroke: SUM_COLOURS[i]!, width: 2, spanGaps: true, points: { show: false } })),
  ];
  // Rules with the same figure share one line, in the colour of the highest of them.
  const byMm = new Map<number, { level: Level; window_h: number }[]>();
  for (const th of hist.thresholds ?? []) byMm.set(th.mm, [...(byMm.get(th.mm) ?? []), th]);
  const order: Level[] = ['info', 'blue', 'yellow', 'orange', 'red'];
  const lines = [...byMm].map(([mm, list]) => {
    const top = list.reduce((a, b) => (order.indexOf(b.level) > order.indexOf(a.level) ? b : a));
    return { value: mm, colour: LEVEL_COLOUR[top.level], label: `${mm} mm: ${list.map((x) => `${levelWord(x.level)} ${x.window_h} h`).join(' · ')}` };
  });
  return make(el, series, data, lines, 'mm');
}

export function levelChart(el: HTMLElement, hist: History): uPlot | null {
  const rows = hist.minutes.filter((m) => m.mean !== null);
  if (!rows.length) return null;
  const data: uPlot.AlignedData = [rows.map((r) => secs(r.at)), rows.map((r) => r.mean), rows.map((r) => r.max)];
  const series: uPlot.Series[] = [
    { label: t('level'), stroke: '#0d47a1', width: 3, points: { show: false } },
    { label: t('levelMax'), stroke: 'rgba(13,71,161,0.35)', width: 1, points: { show: false } },
  ];
  const STAGE: Record<string, [string, string]> = { attention: ['关注水位', 'attention'], warning: ['警戒水位', 'warning'], guaranteed: ['保证水位', 'guaranteed'], historical_max: ['历史最高', 'historical max'] };
  const zh = document.documentElement.lang !== 'en';
  const lines = (hist.stages ?? []).map((s) => ({ value: s.value, colour: LEVEL_COLOUR[s.level] ?? '#555', label: `${STAGE[s.name]?.[zh ? 0 : 1] ?? s.name} ${s.value} ${hist.unit}` }));
  return make(el, series, data, lines, hist.unit);
}
