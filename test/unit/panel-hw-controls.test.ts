import { describe, expect, it } from 'vitest';
import { createControls, input, nextDue, resetControls, tick, type Control, type Controls } from '../../drivers/panel-hw/controls.ts';

const ALL: Control[] = ['emergency', 'silence', 'ack_all', 'drill_key'];
const HOLD = 3000;
const DEB = 50;

/** Controls with every input at its baseline (released, key at normal), settled at t = 100. */
function settled(): Controls {
  const s = createControls(ALL, HOLD, DEB);
  expect(ALL.flatMap((c) => input(s, c, false, 0)).map((a) => a.action)).toEqual(['baseline', 'baseline', 'baseline', 'baseline']);
  expect(tick(s, 100)).toEqual([]);
  return s;
}

describe('panel controls: baseline', () => {
  it('the first level of each input is where it stands, not a press — even a button held or the key at drill', () => {
    const s = createControls(ALL, HOLD, DEB);
    // At once: the first report is the firmware's snapshot of the port, not a contact moving.
    expect(input(s, 'emergency', true, 0)).toEqual([{ action: 'baseline', control: 'emergency', pressed: true, at: 0 }]);
    expect(input(s, 'drill_key', true, 0)).toEqual([{ action: 'baseline', control: 'drill_key', pressed: true, at: 0 }]);
    expect(nextDue(s)).toBeNull();
    expect(tick(s, 50)).toEqual([]);
    // A stuck emergency button never broadcasts, however long it stays down...
    expect(tick(s, 60_000)).toEqual([]);
    // ...and its release is no short press; the next real press works.
    expect(input(s, 'emergency', false, 61_000)).toEqual([]);
    expect(tick(s, 61_050)).toEqual([]);
    input(s, 'emergency', true, 62_000);
    expect(tick(s, 62_050)).toEqual([{ action: 'emergency_down', at: 62_000 }]);
    // The key turned back from drill is a turn.
    input(s, 'drill_key', false, 63_000);
    expect(tick(s, 63_050)).toEqual([{ action: 'drill_off', at: 63_000 }]);
  });

  it('a press right after the first report is a press (the baseline needs no debounce)', () => {
    const s = createControls(ALL, HOLD, DEB);
    input(s, 'silence', false, 0);
    input(s, 'silence', true, 1);
    expect(tick(s, 51)).toEqual([{ action: 'silence', at: 1 }]);
  });

  it('an input never configured is ignored', () => {
    const s = createControls(['silence'], HOLD, DEB);
    expect(input(s, 'emergency', true, 0)).toEqual([]);
    expect(tick(s, 10_000)).toEqual([]);
    expect(nextDue(s)).toBeNull();
  });

  it('after a reset (board lost) the next levels are a baseline again, and a hold in progress is abandoned', () => {
    const s = settled();
    input(s, 'emergency', true, 1000);
    expect(tick(s, 1050)).toEqual([{ action: 'emergency_down', at: 1000 }]);
    resetControls(s);
    expect(nextDue(s)).toBeNull();
    expect(tick(s, 10_000)).toEqual([]);
    expect(input(s, 'emergency', true, 10_000)).toEqual([{ action: 'baseline', control: 'emergency', pressed: true, at: 10_000 }]);
    expect(tick(s, 20_000)).toEqual([]);
  });
});

describe('panel controls: debounce', () => {
  it('a level must hold debounceMs; bounces shorter than that are nothing', () => {
    const s = settled();
    input(s, 'silence', true, 1000);
    input(s, 'silence', false, 1005);
    input(s, 'silence', true, 1010);
    input(s, 'silence', false, 1030);
    expect(tick(s, 1100)).toEqual([]);
    // A press that bounces and then holds counts once, dated when its last change began.
    input(s, 'silence', true, 2000);
    input(s, 'silence', false, 2003);
    input(s, 'silence', true, 2006);
    expect(tick(s, 2055)).toEqual([]);
    expect(tick(s, 2056)).toEqual([{ action: 'silence', at: 2006 }]);
    expect(tick(s, 5000)).toEqual([]);
  });

  it('repeated reports of the same level (Firmata reports whole ports) change nothing', () => {
    const s = settled();
    input(s, 'ack_all', true, 1000);
    input(s, 'ack_all', true, 1040);
    expect(input(s, 'ack_all', true, 1050)).toEqual([{ action: 'ack_all', at: 1000 }]);
    expect(input(s, 'ack_all', true, 1060)).toEqual([]);
  });

  it('a dip shorter than debounceMs during a hold does not break the hold', () => {
    const s = settled();
    input(s, 'emergency', true, 1000);
    tick(s, 1050);
    input(s, 'emergency', false, 2000);
    input(s, 'emergency', true, 2030);
    expect(tick(s, 3999)).toEqual([]);
    expect(tick(s, 4000)).toEqual([{ action: 'emergency', at: 4000, heldMs: 3000 }]);
  });
});

describe('panel controls: the emergency hold', () => {
  it('held holdMs: one broadcast, however long it is held after; the release says nothing more', () => {
    const s = settled();
    input(s, 'emergency', true, 1000);
    expect(nextDue(s)).toBe(1050);
    expect(tick(s, 1050)).toEqual([{ action: 'emergency_down', at: 1000 }]);
    expect(nextDue(s)).toBe(4000);
    expect(tick(s, 3999)).toEqual([]);
    expect(tick(s, 4000)).toEqual([{ action: 'emergency', at: 4000, heldMs: 3000 }]);
    expect(nextDue(s)).toBeNull();
    expect(tick(s, 20_000)).toEqual([]);
    input(s, 'emergency', false, 21_000);
    expect(tick(s, 21_050)).toEqual([]);
    // A second hold broadcasts again.
    input(s, 'emergency', true, 22_000);
    tick(s, 22_050);
    expect(tick(s, 25_000)).toEqual([{ action: 'emergency', at: 25_000, heldMs: 3000 }]);
  });

  it('released before holdMs: nothing is done, and the short hold says how long it was', () => {
    const s = settled();
    input(s, 'emergency', true, 1000);
    tick(s, 1050);
    input(s, 'emergency', false, 3500);
    expect(nextDue(s)).toBe(3550);
    expect(tick(s, 3550)).toEqual([{ action: 'emergency_short', at: 3500, heldMs: 2500 }]);
    expect(nextDue(s)).toBeNull();
    expect(tick(s, 10_000)).toEqual([]);
  });

  it('a late tick fires a hold that was reached in between (a loaded event loop)', () => {
    const s = settled();
    input(s, 'emergency', true, 1000);
    expect(tick(s, 9000)).toEqual([
      { action: 'emergency_down', at: 1000 },
      { action: 'emergency', at: 9000, heldMs: 8000 },
    ]);
  });

  it('a stall that delays both the tick and the release: the release, once reported, wins — no broadcast', () => {
    const s = settled();
    input(s, 'emergency', true, 1000);
    tick(s, 1050);
    // The loop stalled; the release is read at 5000, past the hold, before any tick ran.
    expect(input(s, 'emergency', false, 5000)).toEqual([]);
    expect(tick(s, 5000)).toEqual([]);
    expect(nextDue(s)).toBe(5050);
    expect(tick(s, 5050)).toEqual([{ action: 'emergency_short', at: 5000, heldMs: 4000 }]);
  });

  it('a press whose debounce had passed counts even when its release is read before any tick (a stall)', () => {
    const s = settled();
    input(s, 'silence', true, 1000);
    expect(input(s, 'silence', false, 1100)).toEqual([{ action: 'silence', at: 1000 }]);
    expect(tick(s, 1200)).toEqual([]);
    // But the stall does not make an emergency press a hold: it is settled down, then the release is seen.
    input(s, 'emergency', true, 2000);
    expect(input(s, 'emergency', false, 9000)).toEqual([{ action: 'emergency_down', at: 2000 }]);
    expect(tick(s, 9050)).toEqual([{ action: 'emergency_short', at: 9000, heldMs: 7000 }]);
  });

  it('a release that came before the late tick is still a short hold (the edge is dated when it began)', () => {
    const s = settled();
    input(s, 'emergency', true, 1000);
    tick(s, 1050);
    input(s, 'emergency', false, 2000);
    // The tick at 4000 is past the hold, but the button was up since 2000.
    expect(tick(s, 4000)).toEqual([{ action: 'emergency_short', at: 2000, heldMs: 1000 }]);
  });
});

describe('panel controls: silence, acknowledge-all, drill key', () => {
  it('silence and ack-all act on the press, once per press; the release does nothing', () => {
    const s = settled();
    input(s, 'silence', true, 1000);
    input(s, 'ack_all', true, 1000);
    expect(tick(s, 1050)).toEqual([
      { action: 'silence', at: 1000 },
      { action: 'ack_all', at: 1000 },
    ]);
    input(s, 'silence', false, 2000);
    input(s, 'ack_all', false, 2000);
    expect(tick(s, 2050)).toEqual([]);
    input(s, 'silence', true, 3000);
    expect(tick(s, 3050)).toEqual([{ action: 'silence', at: 3000 }]);
  });

  it('the key switch: each turn is a drill start or end', () => {
    const s = settled();
    input(s, 'drill_key', true, 1000);
    expect(tick(s, 1050)).toEqual([{ action: 'drill_on', at: 1000 }]);
    input(s, 'drill_key', false, 5000);
    expect(tick(s, 5050)).toEqual([{ action: 'drill_off', at: 5000 }]);
  });

  it('nextDue is the earliest of all inputs’ deadlines', () => {
    const s = settled();
    input(s, 'emergency', true, 1000);
    tick(s, 1050);
    input(s, 'silence', true, 2000);
    expect(nextDue(s)).toBe(2050);
    tick(s, 2050);
    expect(nextDue(s)).toBe(4000);
  });
});
