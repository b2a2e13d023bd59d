/**
 * Mandarin text normalisation for the TTS: figures, units, times and dates written the way a
 * Chinese listener expects to hear them, before espeak-ng sees the text (it reads "104.2"
 * digit by digit and "mm" as English letters). Pure; test/unit/speaker-text-zh.test.ts.
 *
 * - integers by place value: 104 → 一百零四, 10010 → 一万零一十, 12 → 十二 (not 一十二), 2000 → 两千;
 *   a leading 0 (05分, 007) is read digit by digit, and so are seven digits and more that end a
 *   clause (a phone number, 1 as 幺; 1200000 人 stays 一百二十万人);
 * - decimals: 104.2 → 一百零四点二 (the fraction digit by digit: 3.05 → 三点零五);
 * - signs and ranges: -3 → 负三, +0.3 → 正零点三, 3-5 / 3~5 → 三到五;
 * - percentages: 85% → 百分之八十五, 2‰ → 千分之二;
 * - times: 14:05 → 十四点零五分, 14:00 → 十四点整, 2:30 → 两点三十分, 14:05:09 → 十四点零五分零九秒;
 * - dates: 2021-07-20 (or / .) → 二零二一年七月二十日; a four-digit year before 年 digit by digit;
 * - units after a number: mm 毫米, cm 厘米, m 米, km 公里, h 小时, min 分钟, s 秒, mm/h 毫米每小时,
 *   m/s 米每秒, m³/s 立方米每秒, ℃ 摄氏度, dB 分贝 …; a bare letter elsewhere stays a letter;
 * - a lone 2 before a measure word is 两 (两小时, 两米), before 号/层/楼 an ordinal 二 (二号楼);
 * - a number after 拨打/电话/热线/致电/呼叫 is a phone number: 119 → 幺幺九, 0371-12345 →
 *   零三七幺,幺二三四五 (the dash a pause);
 * - room numbers (302室) digit by digit: 三零二室;
 * - full-width digits and signs (１２３％：) count as their ASCII forms.
 */

const DIGITS = '零一二三四五六七八九';
const PLACES = ['', '十', '百', '千'];
/** Four-digit groups from the right: 万 is 10^4, 亿 10^8, 万亿 10^12. */
const GROUPS = ['', '万', '亿', '万亿'];

/** Digit by digit (year, room, leading zero); `phone`: 1 as 幺, as Chinese say phone numbers. */
export function digitsZh(digits: string, phone = false): string {
  return [...digits].map((d) => (phone && d === '1' ? '幺' : DIGITS[Number(d)])).join('');
}

/** 0-9999 by place value, zeros between non-zero places as one 零 (1010 → 一千零一十). */
function groupZh(g: number): string {
  let out = '';
  let zero = false;
  for (let place = 3; place >= 0; place--) {
    const d = Math.floor(g / 10 ** place) % 10;
    if (d === 0) {
      if (out) zero = true;
      continue;
    }
    if (zero) out += '零';
    zero = false;
    out += DIGITS[d]! + PLACES[place]!;
  }
  return out;
}

/**
 * A non-negative integer written in ASCII digits, by place value (up to 16 digits; longer ones
 * digit by digit). 10-19 at the start lose their 一 (十二), a leading 2 before 千/万/亿 is 两.
 */
export function integerZh(digits: string): string {
  const s = digits.replace(/^0+(?=\d)/, '');
  if (s.length > 16) return digitsZh(s);
  if (/^0+$/.test(s)) return '零';
  const groups: number[] = [];
  for (let end = s.length; end > 0; end -= 4) groups.unshift(Number(s.slice(Math.max(0, end - 4), end)));
  let out = '';
  let zero = false;
  groups.forEach((g, i) => {
    const unit = GROUPS[groups.length - 1 - i]!;
    if (g === 0) {
      if (out) zero = true;
      return;
    }
    if (out && (zero || g < 1000)) out += '零';
    zero = false;
    out += groupZh(g) + unit;
  });
  if (out.startsWith('一十')) out = out.slice(1);
  // 2000 两千, 20000 两万, 2 亿 两亿: Chinese say 两 before these places, 二 before 十 and 百 is fine.
  if (/^二[千万亿]/.test(out)) out = '两' + out.slice(1);
  return out;
}

/** `104.2` → 一百零四点二; the fraction's digits one by one, trailing zeros kept (3.50 → 三点五零). */
export function decimalZh(int: string, frac?: string): string {
  return frac === undefined || frac === '' ? integerZh(int) : `${integerZh(int)}点${digitsZh(frac)}`;
}

/**
 * Units a figure may carry, longest first (so `mm/h` wins over `mm`, `min` over `m`). Matched
 * only right after a number and when no letter follows (`3 months` keeps its m).
 */
const UNITS: [string, string][] = [
  ['m³/s', '立方米每秒'],
  ['m3/s', '立方米每秒'],
  ['mm/h', '毫米每小时'],
  ['mm/min', '毫米每分钟'],
  ['km/h', '公里每小时'],
  ['m/s', '米每秒'],
  ['m/h', '米每小时'],
  ['dB/m', '分贝每米'],
  ['°C', '摄氏度'],
  ['℃', '摄氏度'],
  ['kPa', '千帕'],
  ['hPa', '百帕'],
  ['min', '分钟'],
  ['mm', '毫米'],
  ['cm', '厘米'],
  ['km', '公里'],
  ['m³', '立方米'],
  ['m²', '平方米'],
  ['dB', '分贝'],
  ['mA', '毫安'],
  ['kW', '千瓦'],
  ['°', '度'],
  ['m', '米'],
  ['h', '小时'],
  ['s', '秒'],
  ['V', '伏'],
  ['W', '瓦'],
];

/** After a lone 2 these count things, so it is 两: 两小时, 两米, 两个. */
const MEASURE = /^(?:小时|分钟|秒钟?|毫米|厘米|公里|千米|米|个|天|人|次|户|名|辆|台|吨|座|处|周|立方米|平方米|公斤|千克|倍|条|位|间|栋|组|队)/;

/** What follows a number of an address (3-2栋, 302室). */
const ADDRESS = /^\s*(?:号|栋|幢|楼|室|单元|层|座)/;

const PHONE_CUE = /(?:拨打|电话|热线|致电|呼叫|call)[::\s]*$/i;

/** Full-width digits, letters and the signs a figure uses → ASCII (NFKC, for those characters only). */
function halfWidth(s: string): string {
  return s.replace(/[\uFF01-\uFF5E]/g, (c) => (/[０-９Ａ-Ｚａ-ｚ％：．－＋～／]/.test(c) ? String.fromCharCode(c.charCodeAt(0) - 0xfee0) : c));
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const UNIT_RE = UNITS.map(([u]) => escapeRe(u)).join('|');

/**
 * One pass over the text, the alternatives in this order (first match wins at a position):
 * 1 date, 2 a phone number with dashes after its cue word (0371-12345), 3 time, 4 a number with
 * its sign, fraction, percent or unit.
 */
const TOKEN = new RegExp(
  [
    String.raw`(?<date>(?<y>\d{4})[-/.](?<mo>\d{1,2})[-/.](?<d>\d{1,2}))(?!\d)`,
    String.raw`(?<phone>(?<=(?:拨打|电话|热线|致电|呼叫|call)[::\s]*)\d+(?:-\d+)+)`,
    String.raw`(?<time>(?<hh>\d{1,2}):(?<mm>\d{2})(?::(?<ss>\d{2}))?)(?!\d)`,
    String.raw`(?<num>(?<sign>[-+])?(?<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(?<frac>\d+))?)(?:\s*(?<pct>[%‰])|\s*(?<unit>${UNIT_RE})(?![A-Za-z]))?`,
  ].join('|'),
  'gu',
);

function timeZh(hh: string, mm: string, ss?: string): string | null {
  const h = Number(hh);
  const m = Number(mm);
  const s = ss === undefined ? 0 : Number(ss);
  if (h > 24 || m > 59 || s > 59) return null;
  // 两点 for 2 o'clock; 零五分 for :05 (the 零 says the minutes are one digit).
  const hour = h === 2 ? '两' : integerZh(String(h));
  const min = m === 0 ? (ss === undefined || s === 0 ? '整' : '零分') : `${m < 10 ? '零' : ''}${integerZh(String(m))}分`;
  const sec = ss === undefined || s === 0 ? '' : `${s < 10 ? '零' : ''}${integerZh(String(s))}秒`;
  return `${hour}点${min}${sec}`;
}

function dateZh(y: string, mo: string, d: string): string | null {
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  return `${digitsZh(y)}年${integerZh(String(month))}月${integerZh(String(day))}日`;
}

interface NumberParts {
  sign?: string;
  int: string;
  frac?: string;
  pct?: string;
  unit?: string;
}

/** A number in its context: what precedes it (`before`) and what follows the match (`after`). */
function numberZh(p: NumberParts, before: string, after: string): string {
  const int = p.int.replace(/,/g, '');
  const unit = p.unit ? UNITS.find(([u]) => u === p.unit)![1] : '';
  // A minus right after a figure is a range (3-5), not a sign; so is a tilde.
  const prevDigit = /\d$/.test(before);
  let sign = '';
  // 3-5 米 is a range; 5-3号楼 an address (五杠三号楼); -3 ℃ is 零下三摄氏度.
  if (p.sign === '-') sign = prevDigit ? (ADDRESS.test(after) ? '杠' : '到') : unit === '摄氏度' ? '零下' : '负';
  else if (p.sign === '+') sign = prevDigit ? '加' : '正';
  let body: string;
  if (p.frac === undefined && PHONE_CUE.test(before)) body = digitsZh(int, true);
  // Seven digits and more, ending the clause (no 人, 元, 立方米 after it): a phone number.
  else if (p.frac === undefined && !p.unit && !p.pct && int.length >= 7 && !/^\s*\p{Script=Han}/u.test(after)) body = digitsZh(int, true);
  else if (p.frac === undefined && int.length > 1 && int.startsWith('0')) body = digitsZh(int);
  else if (p.frac === undefined && int.length === 4 && !p.unit && /^\s*年/.test(after)) body = digitsZh(int);
  else if (p.frac === undefined && int.length >= 3 && !p.unit && /^\s*(?:室|房)/.test(after)) body = digitsZh(int);
  else body = decimalZh(int, p.frac);
  if (body === '二' && !p.pct && (unit ? MEASURE.test(unit) : MEASURE.test(after.trimStart()))) body = '两';
  if (p.pct === '%') return `${sign}百分之${body}`;
  if (p.pct === '‰') return `${sign}千分之${body}`;
  return sign + body + unit;
}

const CJK = String.raw`\p{Script=Han}\u3000-\u303F\uFF00-\uFFEF`;
const SPACE_BETWEEN_CJK = new RegExp(`(?<=[${CJK}])\\s+(?=[${CJK}])`, 'gu');

/** The Mandarin text as it should be spoken (see the top of the file). */
export function normaliseZh(text: string): string {
  // Ranges first: 3~5, and times 14:00-15:00 (a minus there is no sign).
  const src = halfWidth(text)
    .replace(/(\d)\s*~\s*(?=\d)/g, '$1到')
    .replace(/(\d:\d{2})\s*-\s*(?=\d{1,2}:\d{2})/g, '$1到');
  const out = src.replace(TOKEN, (whole: string, ...args: unknown[]) => {
    const groups = args.at(-1) as Record<string, string | undefined>;
    const offset = args.at(-3) as number;
    const before = src.slice(0, offset);
    const after = src.slice(offset + whole.length);
    const spoken = groups.date
      ? dateZh(groups.y!, groups.mo!, groups.d!)
      : groups.time
        ? timeZh(groups.hh!, groups.mm!, groups.ss)
        : groups.phone
          ? groups.phone.split('-').map((d) => digitsZh(d, true)).join(',')
          : numberZh(groups as unknown as NumberParts, before, after);
    // An impossible date or time (2021-13-40, 25:70): its numbers read on their own, the signs kept.
    return spoken ?? whole.replace(/\d+/g, (d) => integerZh(d));
  });
  return out.replace(SPACE_BETWEEN_CJK, '').replace(/\s{2,}/g, ' ').trim();
}
