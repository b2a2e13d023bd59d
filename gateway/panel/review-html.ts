/**
 * The drill review (复盘) as one printable HTML page: Chinese first with English beneath, an A4
 * print stylesheet, no script. Every value from the log is escaped; the page's only style is
 * this file's, allowed by its hash in the Content-Security-Policy (routes-drills.ts), so nothing
 * else can run or load on it.
 */
import { createHash } from 'node:crypto';
import { wallTime } from '../wire.ts';
import type { AlarmClock, DrillReview } from './drill-review.ts';

const STYLE = `
@page { size: A4; margin: 14mm 12mm 16mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; font-size: 10.5pt; line-height: 1.4; color: #000; margin: 0; }
@media screen { body { max-width: 210mm; margin: 1.5em auto; padding: 0 1em; } }
h1 { font-size: 17pt; margin: 0 0 .2em; }
h2 { font-size: 12.5pt; margin: 1.1em 0 .35em; border-bottom: 1.5pt solid #000; break-after: avoid; }
.en { display: block; color: #333; font-size: 8.5pt; font-weight: normal; }
h1 .en, h2 .en { display: inline; margin-left: .5em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: .6pt solid #777; padding: 2pt 4pt; vertical-align: top; text-align: left; }
th { background: #eee; font-weight: bold; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
.facts th { width: 22%; }
.t { white-space: nowrap; font-variant-numeric: tabular-nums; }
.drill td:first-child { border-left: 3pt solid #000; }
.none { color: #555; font-style: italic; }
.sign { margin-top: 2em; display: flex; gap: 3em; break-inside: avoid; }
.sign div { flex: 1; border-top: .6pt solid #000; padding-top: 2pt; }
footer { margin-top: 1.2em; color: #333; font-size: 8pt; }
@media print { a { color: #000; text-decoration: none; } }
`;

/** For the Content-Security-Policy: the one inline style allowed. */
export const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);
}

const bi = (zh: string, en: string): string => `${esc(zh)}<span class="en">${esc(en)}</span>`;

/** `+1:05` or `+1:02:03` after `from`. */
export function since(from: number, at: number): string {
  const s = Math.max(0, Math.round((at - from) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `+${h}:${String(m).padStart(2, '0')}:${ss}` : `+${m}:${ss}`;
}

const KIND: Record<string, [string, string]> = { rain: ['暴雨', 'rainstorm'], water_level: ['洪水', 'flood'], smoke: ['火警', 'fire'], fault: ['设备故障', 'equipment fault'] };
const LEVEL: Record<string, string> = { info: '提示', blue: '蓝色', yellow: '黄色', orange: '橙色', red: '红色' };
const TYPE: Record<string, [string, string]> = {
  command: ['命令', 'command'],
  effect: ['动作', 'effect'],
  transition: ['警报', 'alert'],
  fault: ['故障', 'fault'],
  escalation: ['吹哨', 'escalation'],
  session: ['登录', 'session'],
  note: ['记录', 'note'],
  threshold: ['阈值', 'threshold'],
  report: ['报告', 'report'],
  storage: ['存储', 'storage'],
  start: ['启动', 'start'],
  stop: ['停机', 'stop'],
  config: ['配置', 'config'],
};

export interface ReviewPage {
  site: { name: string; nameEn: string; id: string; utcOffset: string };
  zoneNames: Readonly<Record<string, { zh: string; en: string }>>;
  generatedAt: number;
}

export function reviewHtml(r: DrillReview, o: ReviewPage): string {
  const off = o.site.utcOffset;
  const t = (ms: number): string => wallTime(ms, off).slice(11, 19);
  const day = (ms: number): string => wallTime(ms, off).slice(0, 10);
  const full = (ms: number): string => `${day(ms)} ${t(ms)}`;
  const d = r.drill;
  const zero = d.since;
  const [kindZh, kindEn] = KIND[d.kind] ?? [d.kind, d.kind];
  const zones = d.zones?.length ? d.zones.map((z) => o.zoneNames[z] ?? { zh: z, en: z }) : null;
  const clockRow = (zh: string, en: string, at: number | null, by: string | null): string =>
    `<tr><th>${bi(zh, en)}</th><td class="t">${at === null ? bi('—', 'not yet') : esc(t(at))}</td><td class="t">${at === null ? '' : esc(since(zero, at))}</td><td>${esc(by ?? '')}</td></tr>`;
  const c = r.clock;
  const alarmRows = r.alarms.map((a) => alarmRow(a, t)).join('');
  const timeline = r.entries
    .map((e) => {
      const [tz, te] = TYPE[e.type] ?? [e.type, e.type];
      return `<tr${e.drill ? ' class="drill"' : ''}><td class="t">${esc(t(e.at))}<span class="en">${esc(since(zero, e.at))}</span></td><td>${bi(tz, te)}</td><td>${esc(e.who)}</td><td>${bi(e.zh, e.en)}</td></tr>`;
    })
    .join('');
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>演练复盘 Drill review — ${esc(o.site.name)} — ${esc(day(d.since))} #${d.id}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>演练复盘<span class="en">Drill review</span></h1>
<table class="facts">
<tr><th>${bi('站点', 'Site')}</th><td>${bi(o.site.name, o.site.nameEn)}</td></tr>
<tr><th>${bi('演练编号', 'Drill')}</th><td>#${d.id}</td></tr>
<tr><th>${bi('演练内容', 'What')}</th><td>${bi(`${kindZh}${LEVEL[d.level] ?? d.level}预警演练`, `${d.level} ${kindEn} warning drill`)}</td></tr>
<tr><th>${bi('区域', 'Zones')}</th><td>${zones ? bi(zones.map((z) => z.zh).join('、'), zones.map((z) => z.en).join(', ')) : bi('全社区', 'the whole site')}</td></tr>
<tr><th>${bi('发起人', 'Ordered by')}</th><td>${esc(d.by)}</td></tr>
<tr><th>${bi('开始', 'Started')}</th><td class="t">${esc(full(d.since))}</td></tr>
<tr><th>${bi('结束', 'Ended')}</th><td class="t">${d.until === null ? bi('进行中', 'still running') : `${esc(full(d.until))}${d.endedBy ? `(${esc(d.endedBy)})` : ''}<span class="en">${esc(since(zero, d.until))}</span>`}</td></tr>
</table>

<h2>一、响应时间<span class="en">Response clock</span></h2>
<table>
<thead><tr><th>${bi('步骤', 'Step')}</th><th>${bi('时间', 'Time')}</th><th>${bi('距下令', 'Since the order')}</th><th>${bi('谁', 'Who')}</th></tr></thead>
${clockRow('下令演练', 'drill ordered', c.ordered.at, c.ordered.by)}
${clockRow('首次鸣响', 'first siren', c.firstSiren?.at ?? null, c.firstSiren?.actuator ?? null)}
${clockRow('首次广播', 'first broadcast', c.firstBroadcast?.at ?? null, c.firstBroadcast?.actuator ?? null)}
${clockRow('广播播放完毕', 'broadcast played', c.spoken?.at ?? null, c.spoken ? `${c.spoken.speakers} 个喇叭 / speakers` : null)}
${clockRow('演练结束', 'drill ended', c.ended?.at ?? null, c.ended?.by ?? null)}
</table>

<h2>二、警报<span class="en">Alarms</span></h2>
${
  r.alarms.length
    ? `<table>
<thead><tr><th>${bi('警报', 'Alert')}</th><th>${bi('发布', 'Raised')}</th><th>${bi('确认', 'Acknowledged')}</th><th>${bi('开始广播', 'Broadcast')}</th><th>${bi('吹哨上报', 'Escalated')}</th><th>${bi('乡镇回复', 'Township')}</th><th>${bi('解除', 'Cleared')}</th></tr></thead>
${alarmRows}
</table>`
    : `<p class="none">${bi('演练期间没有警报。', 'No alert was raised or changed in the drill’s time.')}</p>`
}

<h2>三、经过<span class="en">What happened, in order</span></h2>
<table>
<thead><tr><th>${bi('时间', 'Time')}</th><th>${bi('类型', 'Type')}</th><th>${bi('谁', 'Who')}</th><th>${bi('经过', 'What')}</th></tr></thead>
${timeline}
</table>
${r.truncated ? `<p class="none">${bi(`只列出前 ${r.entries.length} 条记录;其余请导出事件日志。`, `Only the first ${r.entries.length} events are listed; export the event log for the rest.`)}</p>` : ''}
${r.observations ? `<p class="none">${bi(`另有 ${r.observations} 条传感器观察记录(计数器回绕、迟到读数等)未列出。`, `${r.observations} sensor observations (counter wraps, late readings…) are not listed.`)}</p>` : ''}

<div class="sign"><div>${bi('值班员签字', 'Duty officer')}</div><div>${bi('负责人签字', 'Person in charge')}</div><div>${bi('日期', 'Date')}</div></div>
<footer>${esc(`${o.site.id} · 事件 seq ${r.firstSeq}–${r.lastSeq} · 生成于 ${full(o.generatedAt)}`)}<span class="en">${esc(`events seq ${r.firstSeq}–${r.lastSeq} · made ${full(o.generatedAt)} from the box's event log`)}</span></footer>
</body>
</html>
`;
}

function alarmRow(a: AlarmClock, t: (ms: number) => string): string {
  const zero = a.raised;
  const cell = (at: number | null, by?: string | null): string => {
    if (at === null) return `<td class="t">—</td>`;
    const rel = zero === null ? '' : since(zero, at);
    return `<td class="t">${esc(t(at))}${by ? ` ${esc(by)}` : ''}<span class="en">${esc(rel)}</span></td>`;
  };
  const [kz, ke] = KIND[a.kind] ?? [a.kind, a.kind];
  return `<tr><td>${bi(`${kz}${LEVEL[a.level] ?? a.level}:${a.textZh}`, `${a.level} ${ke}: ${a.textEn}`)}<span class="en">${esc(a.alert)}</span></td>${
    zero === null ? `<td>${bi('演练前', 'before the drill')}</td>` : cell(zero)
  }${cell(a.acknowledged?.at ?? null, a.acknowledged?.by)}${cell(a.broadcast)}${cell(a.escalated?.at ?? null, a.escalated?.by)}${cell(a.townshipAck?.at ?? null, a.townshipAck?.by)}${cell(a.cleared)}</tr>`;
}

/** The page for a request without a session: the panel's sign-in is on `/`. */
export function signInHtml(): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>请先登录 Sign in first</title><style>${STYLE}</style></head><body><h1>请先登录<span class="en">Sign in first</span></h1><p>${bi('演练复盘只给已登录的值班员和观察员看。', 'Drill reviews are for signed-in officers and observers.')}</p><p><a href="/">${bi('去登录', 'Sign in')}</a></p></body></html>\n`;
}

/** No such drill. */
export function notFoundHtml(id: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>没有这次演练 No such drill</title><style>${STYLE}</style></head><body><h1>没有这次演练<span class="en">No such drill</span></h1><p>${bi(`日志里没有编号为 ${id} 的演练(可能已超过保存期限)。`, `The log holds no drill #${id} (it may be older than the log keeps).`)}</p><p><a href="/api/drills">/api/drills</a></p></body></html>\n`;
}
