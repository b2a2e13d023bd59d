/**
 * The planner's vocabulary: officer and township commands in, effects out. Effects are what
 * the actuator drivers carry out (siren relays, speakers, panel LEDs).
 */
import type { AlertKind, AlertTransition, Level } from '../engine/types.ts';

/**
 * Who may pre-empt whom, highest first. `advisory` (automatic yellow/blue notices) is ours:
 * the design's list names only red/orange alarms, but a yellow flood notice still outranks a
 * drill or a routine notice.
 */
export const PRIORITIES = ['alarm', 'emergency', 'township', 'advisory', 'drill', 'test', 'routine'] as const;
export type Priority = (typeof PRIORITIES)[number];

export function priorityRank(p: Priority): number {
  return PRIORITIES.length - PRIORITIES.indexOf(p);
}

export type Source = 'engine' | 'officer' | 'township' | 'schedule';

export type Command =
  /** Speak a message (chime first), optionally with a siren pattern. */
  | {
      type: 'broadcast';
      source: Source;
      by: string;
      /** The officer's words; optional with a `template` (then they fill its `{text}`), else required (the validator says so). */
      textZh?: string;
      textEn?: string;
      /** A named broadcast (`broadcasts.templates.<id>`), filled for each zone (template.ts `fromTemplate`); an unknown id plays nothing (note `unknown_template`). */
      template?: string;
      zones?: string[];
      repeat?: number;
      emergency?: boolean;
      pattern?: string;
      /**
       * Names what this broadcast is (e.g. one CAP warning's chain): a broadcast with a key
       * replaces whatever an earlier one with that key still plays or queues, and
       * `broadcast_cancel` stops it. Set by the box's own modules; the broker's schema has no such field.
       */
      key?: string;
      /** The priority, for a module that decided it itself (the CAP inbox); else from source and `emergency`. Not on the wire. */
      priority?: 'emergency' | 'township' | 'drill' | 'routine';
      /** Marks it a drill (a CAP Exercise): logged, shown and uplinked as one; never resumed after pre-emption. */
      drill?: boolean;
    }
  /** Stops every broadcast (and its siren) started with `key`, wherever it plays or waits. */
  | { type: 'broadcast_cancel'; by: string; key: string }
  /** Sound a named siren pattern; no command can exceed the siren's maximum on-time. */
  | { type: 'siren'; source: Source; by: string; pattern: string; zones?: string[]; emergency?: boolean }
  /** Stop sirens (any source). Logged; alerts stay active. */
  | { type: 'silence'; by: string; zones?: string[] }
  /** Stop everything sounding or speaking in the zones. */
  | { type: 'stop'; by: string; zones?: string[] }
  | { type: 'drill'; by: string; kind?: AlertKind; level?: Level; zones?: string[] }
  | { type: 'drill_end'; by: string }
  /** The scheduled self-test: a short siren blip and a spoken test notice. */
  | { type: 'test'; by: string; zones?: string[] }
  /** Speaker `actuator` finished an activity (or it failed). */
  | { type: 'broadcast_done'; actuator: string; activity: string };

export type PlannerInput = { type: 'transition'; transition: AlertTransition } | { type: 'command'; command: Command } | { type: 'tick' };

export type StopReason = 'preempted' | 'silenced' | 'stopped' | 'cleared' | 'drill_end' | 'replaced' | 'cancelled';

interface EffectBase {
  at: number;
  /**
   * The one actuator (config `actuators[].id`) this effect is for: the planner decided it for
   * that siren or speaker, and the shell sends it there only. Null when no actuator of the
   * kind serves `zone`: planned and logged, heard by nobody.
   */
  actuator: string | null;
  /** The requested zone the actuator plays it for. */
  zone: string;
  activity: string;
}

interface Attribution {
  priority: Priority;
  source: Source;
  by: string;
  alert: string | null;
  drill: boolean;
}

export type Effect =
  /**
   * Plays `steps` now, in place of whatever the zone's sirens play. `replaces` names the pattern
   * this one ended and why, when it took over straight from it: no `siren_off` comes between the
   * two, since an off write there would blip the relay (issue 14: orange → red went off, then on).
   */
  | (EffectBase & Attribution & { type: 'siren'; pattern: string; steps: number[]; clamped: boolean; replaces?: { activity: string; reason: StopReason } })
  | (EffectBase & { type: 'siren_off'; reason: StopReason; by: string })
  /** `template`: the named broadcast it was filled from, so a speaker with its recording (`broadcasts.templates.<id>.audio`) can play that instead of TTS. */
  | (EffectBase & Attribution & { type: 'broadcast'; chime: true; repeat: number; textZh: string; textEn: string; template?: string })
  | (EffectBase & { type: 'broadcast_stop'; reason: StopReason; by: string })
  | { type: 'indicator'; at: number; indicator: Indicator; state: IndicatorState };

export type Indicator = 'alarm' | 'fault' | 'drill' | 'buzzer';
export type IndicatorState = 'off' | 'on' | 'flash';

/** A planner refusal or note that is not an effect: the shell logs it (e.g. unknown pattern). */
export interface PlanNote {
  at: number;
  note: 'unknown_pattern' | 'unknown_zone' | 'unknown_template' | 'clamped' | 'cancelled';
  detail: Record<string, string | number>;
}

export interface PlanResult<S> {
  state: S;
  effects: Effect[];
  notes: PlanNote[];
}
