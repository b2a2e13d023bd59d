/**
 * Times and sizes as an officer reads them. The box's times carry the site's offset
 * (`2026-07-20T14:03:11+08:00`) and are shown in it, whatever the phone's own time zone; how
 * long ago is counted on the box's clock (main.ts keeps the skew to this device's clock).
 */
import { t } from './i18n.ts';

let skewMs = 0;
let offset = '+08:00';

/** Called with each state: the box's `at` and the offset it writes. */
export function syncClock(boxAt: string): void {
  const ms = Date.parse(boxAt);
  if (Number.isFinite(ms)) skewMs = ms - Date.now();
  const m = /([+-]\d\d:\d\d|Z)$/.exec(boxAt);
  if (m) offset = m[1] === 'Z' ? '+00:00' : m[1]!;
}

export const boxNow = (): number => Date.now() + skewMs;
export const siteOffset = (): string => offset;

export function offsetMs(): number {
  const m = /^([+-])(\d\d):(\d\d)$/.exec(offset);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000 : 0;
}

/** `2026-07-20T14:03:11` in the site's offset. */
export function siteLocal(ms: number): string {
  return new Date(ms + offsetMs()).toISOString().slice(0, 19);
}

/** `14:03:11`, or `07-19 14:03` when not today. */
export function clockTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const local = iso.slice(0, 19);
  const today = siteLocal(boxNow()).slice(0, 10);
  return local.slice(0, 10) === today ? local.slice(11, 19) : `${local.slice(5, 10)} ${local.slice(11, 16)}`;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('seconds', { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('minutes', { n: m });
  const h = Math.floor(m / 60);
  if (h < 48) return t('hours', { h, m: m % 60 });
  return t('days', { d: Math.floor(h / 24), h: h % 24 });
}

export function since(iso: string | null | undefined): string {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? duration(boxNow() - ms) : '—';
}

export function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  return `${Math.round(n / 1e3)} KB`;
}

export function num(v: unknown, digits = 1): string {
  return typeof v === 'number' && Number.isFinite(v) ? (Math.round(v * 10 ** digits) / 10 ** digits).toString() : '—';
}
