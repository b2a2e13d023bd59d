/** The box's types the panel reads, in one import. */
export type { ActuatorReport, UplinkState } from '../shell/bus.ts';
export type { BoxContext } from '../shell/module.ts';
