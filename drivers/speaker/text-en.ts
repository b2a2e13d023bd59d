/**
 * English text normalisation for the TTS. espeak-ng's English voice reads numbers, decimals,
 * percentages and times well by itself ("104.2" → one hundred and four point two, "14:05" →
 * fourteen oh five); what it gets wrong are unit symbols ("mm" → em em, "3 h" → three aitch).
 * So only units after a number are spelled out, and the Chinese-style brackets of the drill
 * prefix go. Pure; test/unit/speaker-text-en.test.ts.
 */

const UNITS: [string, string, string][] = [
  // symbol, singular, plural
  ['m³/s', 'cubic metre per second', 'cubic metres per second'],
  ['m3/s', 'cubic metre per second', 'cubic metres per second'],
  ['mm/h', 'millimetre per hour', 'millimetres per hour'],
  ['km/h', 'kilometre per hour', 'kilometres per hour'],
  ['m/s', 'metre per second', 'metres per second'],
  ['m/h', 'metre per hour', 'metres per hour'],
  ['dB/m', 'decibel per metre', 'decibels per metre'],
  ['°C', 'degree Celsius', 'degrees Celsius'],
  ['℃', 'degree Celsius', 'degrees Celsius'],
  ['min', 'minute', 'minutes'],
  ['mm', 'millimetre', 'millimetres'],
  ['cm', 'centimetre', 'centimetres'],
  ['km', 'kilometre', 'kilometres'],
  ['dB', 'decibel', 'decibels'],
  ['m', 'metre', 'metres'],
  ['h', 'hour', 'hours'],
  ['s', 'second', 'seconds'],
];

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const FIGURE = new RegExp(String.raw`(?<![\w.])([-+]?\d+(?:,\d{3})*(?:\.\d+)?)\s*(${UNITS.map(([u]) => escapeRe(u)).join('|')})(?![A-Za-z])`, 'g');

/** The English text as it should be spoken. */
export function normaliseEn(text: string): string {
  return text
    .replace(/[【\[]([^】\]]*)[】\]]\s*/g, '$1: ')
    .replace(FIGURE, (_w, n: string, u: string) => {
      const [, one, many] = UNITS.find(([sym]) => sym === u)!;
      return `${n} ${Number(n.replace(/,/g, '')) === 1 ? one : many}`;
    })
    .replace(/\s{2,}/g, ' ')
    .trim();
}
