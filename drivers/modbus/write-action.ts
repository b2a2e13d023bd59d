/**
 * One write of a profile action, with the function code its table and encoding call for. The
 * siren driver and the profile walk both write through here, so a profile's actions are driven
 * the way the walk proved them (issue 14: holding-register actions used to go out as FC05).
 *
 * | table   | encoding | function code (Modbus Application Protocol V1.1b3)                      |
 * |---------|----------|-------------------------------------------------------------------------|
 * | coil    | coil     | FC05, 0xFF00 on / 0x0000 off (§6.5)                                     |
 * | coil    | raw      | FC05 with a 16-bit number in the value field (vendor: Waveshare flash)  |
 * | holding | raw      | FC06, one 16-bit value (§6.6): R421A08-style boards take command words  |
 *
 * No shipped profile writes more than one register per action, so FC16 is not offered.
 */
import type { Link } from './link.ts';
import type { ActionDef } from './profile-types.ts';

/** A caller value in the action's units → the count it writes, within the action's bounds. */
export function actionCount(a: ActionDef, value: number): number {
  const min = a.valueMin === null ? 0 : Math.round(a.valueMin / a.valueScale);
  const max = a.valueMax === null ? 0xffff : Math.round(a.valueMax / a.valueScale);
  return Math.max(min, Math.min(max, Math.round(value / a.valueScale)));
}

/**
 * The value field an action writes: its fixed value, or `value_base` + the caller's count
 * (R421A08 delay: 0x0600 + seconds). `value` is in the action's `value_unit` and is clamped to
 * `value_min … value_max`; a fixed-value action ignores it.
 */
export function actionValue(a: ActionDef, value?: number | null): number | boolean {
  if (a.value !== null) return a.value;
  if (value === undefined || value === null || !Number.isFinite(value)) throw new RangeError(`action ${a.name} needs a value in ${a.valueUnit || 'its units'}`);
  return a.valueBase + actionCount(a, value);
}

/**
 * Writes action `a` to `unit`. `channel` is added to the action's address (relay N of a board
 * whose profile describes relay 1, as a siren's `coil` setting does). Resolves with what was
 * written; rejects with the link's classified error.
 */
export async function writeAction(link: Link, unit: number, a: ActionDef, value?: number | null, channel = 0): Promise<number | boolean> {
  const v = actionValue(a, value);
  const address = a.address + channel;
  if (a.table === 'holding') await link.writeRegister(unit, address, Number(v));
  else if (a.encoding === 'raw') await link.writeCoilRaw(unit, address, Number(v));
  else await link.writeCoil(unit, address, Boolean(v));
  return v;
}
