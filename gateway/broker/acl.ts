/**
 * Who may publish, subscribe to and receive what (DESIGN.md: a device publishes only under its
 * own id; only officers and the township command; nobody is anonymous). Pure functions of the
 * authenticated principal and the topic; broker.ts calls them from the aedes hooks.
 *
 * | role                 | publish                                              | read (subscribe and receive)                  |
 * |----------------------|------------------------------------------------------|-----------------------------------------------|
 * | device (sensor id)   | `sensor/<self>/reading`, `device/<self>/status`      | nothing                                       |
 * | device (actuator id) | `actuator/<self>/report`, `device/<self>/status`     | `cmd/<self>`                                  |
 * | officer, township    | `cmd/box`                                            | all of `sb/v1/<site>/` except `cmd/<actuator>` (so `cmd/box/result` too) |
 * | observer             | nothing                                              | `alert/#`, `event`, `status`                  |
 * | the box (publish())  | anything of the site (no ACL)                        | —                                             |
 *
 * Officers do not see `cmd/<actuator>`: what the box told each actuator is in `event` already,
 * and an actuator's command stream is between the box and that device. What officers and the
 * township may read of raw readings they get at most once per sensor per second, the latest
 * always (reading-rate.ts, applied next to `mayRead` in authorizeForward).
 *
 * Subscriptions: a filter without wildcards is granted when the topic is readable. A filter
 * with wildcards is granted only when every topic it can match lies inside one of the role's
 * read patterns (`filterWithin`), so `#`, `sb/v1/+/cmd/x` or `sb/v1/<site>/#` from a device
 * get SUBACK 0x80. An officer's `sb/v1/<site>/#` is granted; the `cmd/<actuator>` messages it
 * would match are withheld per message by `mayRead` in aedes' authorizeForward, which also
 * guards retained messages (which brokers have leaked past their ACLs).
 */
import type { AccountRole } from '../config/types.ts';
import { parseTopic, topics, type ParsedTopic } from './topics.ts';

/** An authenticated MQTT account, as the broker knows it for the life of a connection. */
export interface Principal {
  username: string;
  role: AccountRole;
  /** The username is a configured sensor id (device accounts). */
  isSensor: boolean;
  /** The username is a configured actuator id (device accounts). */
  isActuator: boolean;
}

/** May `p` publish to this (parsed) topic? `null` (not a topic of the site) is never allowed. */
export function mayPublish(p: Principal, t: ParsedTopic | null): boolean {
  if (!t) return false;
  switch (p.role) {
    case 'device':
      if (t.kind === 'sensorReading') return p.isSensor && t.sensor === p.username;
      if (t.kind === 'actuatorReport') return p.isActuator && t.actuator === p.username;
      if (t.kind === 'deviceStatus') return t.device === p.username;
      return false;
    case 'officer':
    case 'township':
      return t.kind === 'boxCommand';
    case 'observer':
      return false;
  }
}

/** A last will is allowed only on the device's own status topic. */
export function mayWill(p: Principal, t: ParsedTopic | null): boolean {
  return p.role === 'device' && t?.kind === 'deviceStatus' && t.device === p.username;
}

/** Only a device's own status may be retained by a client; everything else is stored unretained. */
export function mayRetain(t: ParsedTopic | null): boolean {
  return t?.kind === 'deviceStatus';
}

/** May `p` receive a message on this concrete topic (live or retained)? */
export function mayRead(p: Principal, t: ParsedTopic | null): boolean {
  if (!t) return false;
  switch (p.role) {
    case 'device':
      return t.kind === 'actuatorCommand' && p.isActuator && t.actuator === p.username;
    case 'officer':
    case 'township':
      return t.kind !== 'actuatorCommand';
    case 'observer':
      return t.kind === 'alert' || t.kind === 'event' || t.kind === 'status';
  }
}

/** The topic filters inside which `p`'s subscriptions are granted. */
export function readPatterns(site: string, p: Principal): string[] {
  const t = topics(site);
  switch (p.role) {
    case 'device':
      return p.isActuator ? [t.actuatorCommand(p.username)] : [];
    case 'officer':
    case 'township':
      return [t.all()];
    case 'observer':
      return [t.alerts(), t.event(), t.status()];
  }
}

/**
 * True if every topic that MQTT filter `filter` matches is also matched by `pattern`
 * (MQTT 3.1.1 §4.7: `+` one level, `#` any number of levels including the parent, so `a/#`
 * matches `a`).
 */
export function filterWithin(filter: string, pattern: string): boolean {
  const f = filter.split('/');
  const p = pattern.split('/');
  for (let i = 0; ; i++) {
    const pl = p[i];
    const fl = f[i];
    if (pl === '#') return true;
    if (fl === undefined) return pl === undefined;
    if (pl === undefined || fl === '#') return false;
    if (fl === '+') {
      if (pl !== '+') return false;
    } else if (pl !== '+' && pl !== fl) {
      return false;
    }
  }
}

export function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/** May `p` subscribe to `filter`? (Syntax is checked by aedes before this is asked.) */
export function maySubscribe(site: string, p: Principal, filter: string): boolean {
  if (!hasWildcard(filter)) return mayRead(p, parseTopic(site, filter));
  return readPatterns(site, p).some((pattern) => filterWithin(filter, pattern));
}
