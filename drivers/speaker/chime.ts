/**
 * The chime before every broadcast, synthesised here (nothing is shipped or downloaded): a
 * two-tone 叮咚 like a station or school PA, E5 (659.3 Hz) then C5 (523.3 Hz), a falling major
 * third. Each tone is a struck-bell sound: the fundamental with a weaker second and third
 * partial, a 5 ms attack (no click) and an exponential decay, the higher partials dying
 * faster. Peak about -6 dBFS so speech (espeak-ng peaks near full scale) stays the loudest.
 */
import { RATE } from './pcm.ts';

export const CHIME_TONES_HZ = [659.25, 523.25] as const;
/** When the second tone strikes, and how long the chime lasts with its tail. */
export const CHIME_SECOND_AT_S = 0.6;
export const CHIME_LENGTH_S = 1.6;

const PARTIALS = [
  { ratio: 1, amp: 1, decayS: 0.45 },
  { ratio: 2, amp: 0.25, decayS: 0.25 },
  { ratio: 3, amp: 0.08, decayS: 0.15 },
];
const PEAK = 0.5;
const ATTACK_S = 0.005;

let cached: Buffer | null = null;

/** The chime as PCM in the box format (pcm.ts); made once, then shared (callers must not write to it). */
export function chimePcm(): Buffer {
  if (cached) return cached;
  const n = Math.round(CHIME_LENGTH_S * RATE);
  const mix = new Float64Array(n);
  CHIME_TONES_HZ.forEach((hz, k) => {
    const start = Math.round(k * CHIME_SECOND_AT_S * RATE);
    for (let i = start; i < n; i++) {
      const t = (i - start) / RATE;
      const attack = Math.min(1, t / ATTACK_S);
      let v = 0;
      for (const p of PARTIALS) v += p.amp * Math.exp(-t / p.decayS) * Math.sin(2 * Math.PI * hz * p.ratio * t);
      mix[i]! += attack * v;
    }
  });
  let peak = 0;
  for (const v of mix) peak = Math.max(peak, Math.abs(v));
  // The tail fades to zero over the last 50 ms, so the chime never ends on a click.
  const fade = Math.round(0.05 * RATE);
  const out = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const tail = i >= n - fade ? (n - 1 - i) / fade : 1;
    out.writeInt16LE(Math.round((mix[i]! / peak) * PEAK * tail * 32767), i * 2);
  }
  cached = out;
  return out;
}
