/**
 * The panel's inputs as a pure state machine (no timers, the clock passed in): raw pin levels
 * in, debounced control actions out. The module feeds it each level Firmata reports and calls
 * `tick` at `nextDue`.
 *
 * - Debounce: a level counts once it has held `debounceMs` (contact bounce, noise on the cable);
 *   its edge is dated when the change began, so a hold is measured from the real press.
 * - Baseline: the first level each input reports after a connect (StandardFirmata reports a
 *   port as soon as its reporting is turned on) is where the control stands, at once, not a press: a
 *   button stuck down or a key left at drill when the box starts or a cable is replugged does
 *   nothing by itself (the module logs it).
 * - The emergency button acts only when held `holdMs`; a shorter press does nothing and says
 *   so (`emergency_short`). Silence and acknowledge-all act on the press; the key switch on
 *   each turn.
 */

export type Control = 'emergency' | 'silence' | 'ack_all' | 'drill_key';

export type ControlAction =
  /** The first debounced level of an input after a connect: where it stands. */
  | { action: 'baseline'; control: Control; pressed: boolean; at: number }
  /** The emergency button went down (the guard lifted and pressed): the hold starts. */
  | { action: 'emergency_down'; at: number }
  /** Held `holdMs`: broadcast. */
  | { action: 'emergency'; at: number; heldMs: number }
  /** Released before `holdMs`: nothing is done. */
  | { action: 'emergency_short'; at: number; heldMs: number }
  | { action: 'silence'; at: number }
  | { action: 'ack_all'; at: number }
  | { action: 'drill_on'; at: number }
  | { action: 'drill_off'; at: number };

interface Input {
  /** The last level reported (true = pressed / key at drill); null until the first report. */
  raw: boolean | null;
  rawSince: number;
  /** The debounced level; null until the first report (the baseline). */
  stable: boolean | null;
  /** Emergency: since when it is held (debounced), and whether this hold already fired. */
  downAt: number | null;
  fired: boolean;
}

export interface Controls {
  readonly holdMs: number;
  readonly debounceMs: number;
  readonly inputs: Map<Control, Input>;
}

const fresh = (): Input => ({ raw: null, rawSince: 0, stable: null, downAt: null, fired: false });

export function createControls(controls: readonly Control[], holdMs: number, debounceMs: number): Controls {
  return { holdMs, debounceMs, inputs: new Map(controls.map((c) => [c, fresh()])) };
}

/** The board is gone: every input is unknown again, and a hold in progress is abandoned. */
export function resetControls(s: Controls): void {
  for (const c of s.inputs.keys()) s.inputs.set(c, fresh());
}

/** A level reported for `control` at `now` (repeats of the same level are fine: Firmata reports whole ports). */
export function input(s: Controls, control: Control, pressed: boolean, now: number): ControlAction[] {
  const i = s.inputs.get(control);
  if (!i) return [];
  if (i.stable === null) {
    // The first report is the firmware's snapshot of the port, not a contact moving: no debounce,
    // so a press right after it is a press.
    i.raw = i.stable = pressed;
    i.rawSince = now;
    return [{ action: 'baseline', control, pressed, at: now }, ...tick(s, now)];
  }
  const out: ControlAction[] = [];
  if (i.raw !== pressed) {
    // A level that had held its debounce counts even if no tick came before this change (a
    // stalled loop); holds are judged only after the change, below.
    settleDue(s, now, out);
    i.raw = pressed;
    i.rawSince = now;
  }
  return [...out, ...tick(s, now)];
}

/**
 * What the clock alone decides: levels that have now held long enough, a hold that reached
 * `holdMs`. A hold fires only while the button still reads pressed: a release already
 * reported (still within its debounce) wins, so a stall that delays both the tick and the
 * release's report cannot turn a short press into a broadcast.
 */
export function tick(s: Controls, now: number): ControlAction[] {
  const out: ControlAction[] = [];
  settleDue(s, now, out);
  const i = s.inputs.get('emergency');
  if (i && i.stable === true && i.raw === true && i.downAt !== null && !i.fired && now - i.downAt >= s.holdMs) {
    i.fired = true;
    out.push({ action: 'emergency', at: now, heldMs: now - i.downAt });
  }
  return out;
}

function settleDue(s: Controls, now: number, out: ControlAction[]): void {
  for (const [control, i] of s.inputs) {
    if (i.raw !== null && i.raw !== i.stable && now - i.rawSince >= s.debounceMs) settle(control, i, out);
  }
}

function settle(control: Control, i: Input, out: ControlAction[]): void {
  const pressed = i.raw!;
  const at = i.rawSince;
  i.stable = pressed;
  switch (control) {
    case 'emergency':
      if (pressed) {
        i.downAt = at;
        i.fired = false;
        out.push({ action: 'emergency_down', at });
      } else if (i.downAt !== null) {
        if (!i.fired) out.push({ action: 'emergency_short', at, heldMs: at - i.downAt });
        i.downAt = null;
      }
      return;
    case 'silence':
    case 'ack_all':
      if (pressed) out.push({ action: control, at });
      return;
    case 'drill_key':
      out.push({ action: pressed ? 'drill_on' : 'drill_off', at });
      return;
  }
}

/** When `tick` next has something to decide (a level to settle, a hold to reach); null if nothing waits. */
export function nextDue(s: Controls): number | null {
  let due: number | null = null;
  const at = (t: number): void => {
    due = due === null ? t : Math.min(due, t);
  };
  for (const [control, i] of s.inputs) {
    if (i.raw !== null && i.raw !== i.stable) at(i.rawSince + s.debounceMs);
    if (control === 'emergency' && i.stable === true && i.raw === true && i.downAt !== null && !i.fired) at(i.downAt + s.holdMs);
  }
  return due;
}
