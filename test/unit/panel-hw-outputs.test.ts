import { describe, expect, it } from 'vitest';
import type { PanelHwPins } from '../../gateway/config/types.ts';
import { LEVELS } from '../../gateway/engine/types.ts';
import { allOff, pinOutputs, type PanelView } from '../../drivers/panel-hw/outputs.ts';

const PINS: PanelHwPins = { emergency: 2, silence: 4, ackAll: 7, drillKey: 8, buzzer: 5, ledFault: 6, ledAlarmRed: 9, ledAlarmGreen: 10, ledAlarmBlue: 11, ledUplink: 12, ledPower: 13, ledDrill: 14 };
const PWM = { pwmPins: new Set([3, 5, 6, 9, 10, 11]), commonAnode: false };
const quiet: PanelView = { running: true, uplink: 'none', level: null, indicators: { alarm: 'off', fault: 'off', drill: 'off', buzzer: 'off' } };

/** pin → value, for reading expectations. */
const values = (view: PanelView, phase: boolean, o = PWM, pins = PINS): Record<number, number> => Object.fromEntries(pinOutputs(pins, view, phase, o).map((p) => [p.pin, p.value]));
const rgb = (v: Record<number, number>): number[] => [v[9]!, v[10]!, v[11]!];

describe('panel outputs', () => {
  it('a quiet running box: power on, everything else off, in both blink phases', () => {
    for (const phase of [true, false]) expect(values(quiet, phase)).toEqual({ 13: 1, 12: 0, 9: 0, 10: 0, 11: 0, 6: 0, 14: 0, 5: 0 });
  });

  it('writes every wired output pin and only those; the alarm pins by PWM where the board has it', () => {
    expect(pinOutputs(PINS, quiet, true, PWM).map((p) => `${p.pin}:${p.mode}`).sort()).toEqual(['10:pwm', '11:pwm', '12:digital', '13:digital', '14:digital', '5:digital', '6:digital', '9:pwm'].sort());
    const few: PanelHwPins = { ...PINS, ledAlarmGreen: null, ledAlarmBlue: null, ledFault: null, ledDrill: null, ledUplink: null, buzzer: null };
    expect(pinOutputs(few, quiet, true, PWM).map((p) => p.pin).sort()).toEqual([13, 9]);
  });

  it('power is off when the box is not running', () => {
    expect(values({ ...quiet, running: false }, true)[13]).toBe(0);
  });

  it('uplink: on online, blinking offline, off with no uplink', () => {
    expect([values({ ...quiet, uplink: 'online' }, true)[12], values({ ...quiet, uplink: 'online' }, false)[12]]).toEqual([1, 1]);
    expect([values({ ...quiet, uplink: 'offline' }, true)[12], values({ ...quiet, uplink: 'offline' }, false)[12]]).toEqual([1, 0]);
    expect([values({ ...quiet, uplink: 'none' }, true)[12], values({ ...quiet, uplink: 'none' }, false)[12]]).toEqual([0, 0]);
  });

  it('alarm colour: each level its colour, steady while the alarm indicator is on or off', () => {
    const want: Record<string, number[]> = { info: [0, 0, 0], blue: [0, 0, 255], yellow: [255, 160, 0], orange: [255, 48, 0], red: [255, 0, 0] };
    for (const level of LEVELS) {
      for (const alarm of ['on', 'off'] as const) {
        for (const phase of [true, false]) expect(rgb(values({ ...quiet, level, indicators: { ...quiet.indicators, alarm } }, phase))).toEqual(want[level]);
      }
    }
    expect(rgb(values({ ...quiet, level: null, indicators: { ...quiet.indicators, alarm: 'on' } }, true))).toEqual([0, 0, 0]);
  });

  it('alarm colour blinks while the alarm indicator flashes (not yet acknowledged)', () => {
    const v: PanelView = { ...quiet, level: 'orange', indicators: { ...quiet.indicators, alarm: 'flash' } };
    expect(rgb(values(v, true))).toEqual([255, 48, 0]);
    expect(rgb(values(v, false))).toEqual([0, 0, 0]);
  });

  it('a common-anode RGB LED gets the inverse duty (lit where low)', () => {
    const o = { ...PWM, commonAnode: true };
    expect(rgb(values({ ...quiet, level: 'red' }, true, o))).toEqual([0, 255, 255]);
    expect(rgb(values(quiet, true, o))).toEqual([255, 255, 255]);
  });

  it('alarm pins without PWM: a duty of 128 or more is on (yellow = red+green, orange = red)', () => {
    const o = { pwmPins: new Set<number>(), commonAnode: false };
    expect(pinOutputs(PINS, { ...quiet, level: 'yellow' }, true, o).filter((p) => p.pin >= 9 && p.pin <= 11)).toEqual([
      { pin: 9, mode: 'digital', value: 1 },
      { pin: 10, mode: 'digital', value: 1 },
      { pin: 11, mode: 'digital', value: 0 },
    ]);
    expect(rgb(values({ ...quiet, level: 'orange' }, true, o))).toEqual([1, 0, 0]);
    expect(rgb(values({ ...quiet, level: 'blue' }, true, o))).toEqual([0, 0, 1]);
    expect(rgb(values({ ...quiet, level: 'blue' }, true, { ...o, commonAnode: true }))).toEqual([1, 1, 0]);
  });

  it('fault, drill and buzzer follow the planner indicators: on, flash (blink), off', () => {
    for (const [name, pin] of [['fault', 6], ['drill', 14], ['buzzer', 5]] as const) {
      const at = (state: 'on' | 'off' | 'flash', phase: boolean): number => values({ ...quiet, indicators: { ...quiet.indicators, [name]: state } }, phase)[pin]!;
      expect([at('on', true), at('on', false), at('flash', true), at('flash', false), at('off', true), at('off', false)]).toEqual([1, 1, 1, 0, 0, 0]);
    }
  });

  it('allOff: every wired output off, the power LED and a common-anode LED too', () => {
    expect(Object.fromEntries(allOff(PINS, PWM).map((p) => [p.pin, p.value]))).toEqual({ 13: 0, 12: 0, 9: 0, 10: 0, 11: 0, 6: 0, 14: 0, 5: 0 });
    expect(allOff(PINS, { ...PWM, commonAnode: true }).filter((p) => p.pin >= 9 && p.pin <= 11).map((p) => p.value)).toEqual([255, 255, 255]);
  });
});
