/**
 * What the panel's LEDs and buzzer show, as a pure function of the box's state and the blink
 * phase: state in, one value per wired output pin out. The module calls it on every change it
 * hears of and at each blink, and writes the pins whose value changed.
 *
 * - power: on while the box runs.
 * - uplink: on while the township link is up, blinking while it is down, off when the site has none.
 * - alarm colour (RGB LED): the highest active alert level's colour (blue, yellow, orange,
 *   red; info and faults have none), blinking while the planner's `alarm` indicator flashes
 *   (an alarm not yet acknowledged), steady after.
 * - fault, drill, buzzer: the planner's indicators of those names (on, flash = blink, off).
 */
import type { PanelHwPins } from '../../gateway/config/types.ts';
import type { Level } from '../../gateway/engine/types.ts';
import type { Indicator, IndicatorState } from '../../gateway/planner/types.ts';

export interface PanelView {
  running: boolean;
  uplink: 'none' | 'online' | 'offline';
  /** The highest level of the active alerts that are not faults; null when none. */
  level: Level | null;
  indicators: Record<Indicator, IndicatorState>;
}

export interface PinOutput {
  pin: number;
  /** `pwm`: 0-255 by analogWrite; `digital`: 0 or 1 by digitalWrite. */
  mode: 'digital' | 'pwm';
  value: number;
}

export interface OutputOptions {
  /** Pins the board can drive by PWM (from its capability report). */
  pwmPins: ReadonlySet<number>;
  /** A common-anode RGB LED lights where its pin is low. */
  commonAnode: boolean;
}

/**
 * Red, green, blue duty (0-255) per level. Orange and yellow differ only in green: on pins
 * without PWM both would be the same mix, so the alarm LED needs PWM pins (on a digital pin
 * a duty of 128 or more is on: yellow shows red+green, orange shows red).
 */
export const LEVEL_RGB: Partial<Record<Level, readonly [number, number, number]>> = {
  blue: [0, 0, 255],
  yellow: [255, 160, 0],
  orange: [255, 48, 0],
  red: [255, 0, 0],
};

const OFF_RGB = [0, 0, 0] as const;

/** An indicator lit now: `on`, or `flash` in the blink's lit half. */
export function lit(state: IndicatorState, phase: boolean): boolean {
  return state === 'on' || (state === 'flash' && phase);
}

/** Every wired output pin's value for this view, in the blink phase `phase` (true: the lit half). */
export function pinOutputs(pins: PanelHwPins, view: PanelView, phase: boolean, o: OutputOptions): PinOutput[] {
  const out: PinOutput[] = [];
  const digital = (pin: number | null, on: boolean): void => {
    if (pin !== null) out.push({ pin, mode: 'digital', value: on ? 1 : 0 });
  };
  digital(pins.ledPower, view.running);
  digital(pins.ledUplink, view.uplink === 'online' || (view.uplink === 'offline' && phase));
  const colour = (view.level && LEVEL_RGB[view.level]) || OFF_RGB;
  const shown = view.indicators.alarm === 'flash' && !phase ? OFF_RGB : colour;
  [pins.ledAlarmRed, pins.ledAlarmGreen, pins.ledAlarmBlue].forEach((pin, i) => {
    if (pin === null) return;
    const duty = shown[i]!;
    if (o.pwmPins.has(pin)) out.push({ pin, mode: 'pwm', value: o.commonAnode ? 255 - duty : duty });
    else out.push({ pin, mode: 'digital', value: (duty >= 128) !== o.commonAnode ? 1 : 0 });
  });
  digital(pins.ledFault, lit(view.indicators.fault, phase));
  digital(pins.ledDrill, lit(view.indicators.drill, phase));
  digital(pins.buzzer, lit(view.indicators.buzzer, phase));
  return out;
}

/** Every wired output off (the box stops, or before the board is let go): the power LED too. */
export function allOff(pins: PanelHwPins, o: OutputOptions): PinOutput[] {
  const idle: PanelView = { running: false, uplink: 'none', level: null, indicators: { alarm: 'off', fault: 'off', drill: 'off', buzzer: 'off' } };
  return pinOutputs(pins, idle, false, o);
}
