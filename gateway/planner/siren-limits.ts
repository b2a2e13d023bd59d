/**
 * The siren's hard maximum on-time, enforced before any pattern reaches a driver. The siren
 * node firmware enforces the same limit again; neither trusts the other.
 */

/** Whether a pattern started at `startedAt` is sounding at `t`, and since when (ms). */
export function onStepAt(steps: readonly number[], startedAt: number, t: number): { on: boolean; since: number } {
  let begin = startedAt;
  for (let i = 0; i < steps.length; i++) {
    const end = begin + steps[i]! * 1000;
    if (t < end || i === steps.length - 1) return { on: i % 2 === 0 && steps[i]! > 0, since: begin };
    begin = end;
  }
  return { on: false, since: t };
}

export function patternMs(steps: readonly number[]): number {
  return steps.reduce((a, b) => a + b, 0) * 1000;
}

/**
 * Cuts every on-step to `maxOnS`. When the siren is already on for `alreadyOnS` (a pattern
 * that follows another without a pause), the first on-step only gets what is left of the
 * maximum, and if nothing is left the pattern starts with `restS` of silence (a leading 0-s
 * on-step: steps always alternate on, off starting with on).
 */
export function clampSteps(steps: readonly number[], maxOnS: number, restS: number, alreadyOnS: number): { steps: number[]; clamped: boolean } {
  let clamped = false;
  const out = steps.map((s, i) => {
    if (i % 2 === 0 && s > maxOnS) {
      clamped = true;
      return maxOnS;
    }
    return s;
  });
  if (alreadyOnS > 0 && out.length > 0) {
    const left = maxOnS - alreadyOnS;
    if (left <= 0) {
      clamped = true;
      return { steps: [0, restS, ...out], clamped };
    }
    if (out[0]! > left) {
      out[0] = left;
      clamped = true;
    }
  }
  return { steps: out, clamped };
}
