/**
 * Which physical actuators serve which zones, from the site config. The planner schedules one
 * channel per physical siren and speaker, because that is where two requests really collide:
 * the `site` zone reaches every actuator, so a site-wide rainstorm alarm and a building fire
 * alarm land on the same siren, and a siren can play only one pattern at a time.
 *
 * A zone that no actuator of a kind serves keeps a channel of its own, addressed to nobody
 * (`actuator: null`): its effects are still planned, logged and replayed, and the shell warns
 * that they reach nobody. A site without actuators (a replay of readings) is planned per zone.
 */
import type { SiteConfig } from '../config/types.ts';

export type ChannelKind = 'siren' | 'speaker';
export const CHANNEL_KINDS: readonly ChannelKind[] = ['siren', 'speaker'];

/** Whether an actuator placed on `zones` serves `zone`: the `site` zone reaches every actuator. */
export function servesZone(zones: readonly string[], zone: string): boolean {
  return zone === 'site' || zones.includes(zone) || zones.includes('site');
}

/** The channel key of a zone nobody serves. Ids cannot hold `/` (config schema), so it never equals an actuator id. */
export function unservedKey(zone: string, kind: ChannelKind): string {
  return `${zone}/${kind}`;
}

export interface ChannelTarget {
  key: string;
  kind: ChannelKind;
  /** The actuator id, or null for a zone no actuator of this kind serves. */
  actuator: string | null;
}

/** Every channel the site needs, and for each zone the channel keys of each kind that serve it. */
export function channelTargets(config: SiteConfig): { targets: ChannelTarget[]; byZone: Map<string, Record<ChannelKind, string[]>> } {
  const targets: ChannelTarget[] = config.actuators.map((a) => ({ key: a.id, kind: a.kind, actuator: a.id }));
  const byZone = new Map<string, Record<ChannelKind, string[]>>();
  for (const z of config.zones) {
    const keys = { siren: [] as string[], speaker: [] as string[] };
    for (const kind of CHANNEL_KINDS) {
      for (const a of config.actuators) if (a.kind === kind && servesZone(a.zones, z.id)) keys[kind].push(a.id);
      if (keys[kind].length === 0) {
        keys[kind].push(unservedKey(z.id, kind));
        targets.push({ key: unservedKey(z.id, kind), kind, actuator: null });
      }
    }
    byZone.set(z.id, keys);
  }
  return { targets, byZone };
}
