/**
 * Every topic of the local broker, in one typed place (DESIGN.md, Contracts). All live under
 * `sb/v1/<site>/`:
 *
 * | topic                      | who publishes          | what                                   |
 * |----------------------------|------------------------|----------------------------------------|
 * | `sensor/<id>/reading`      | sensor device `<id>`   | one reading (payloads.ts)              |
 * | `actuator/<id>/report`     | actuator device `<id>` | done / state / fault                   |
 * | `device/<id>/status`       | device `<id>`          | its own status and last will (retain ok) |
 * | `cmd/box`                  | officer, township      | a command for the box                  |
 * | `cmd/box/result`           | the box only           | what became of each command (`{command_id, ok, error?, by}`) |
 * | `cmd/<actuator id>`        | the box only           | an effect for that actuator            |
 * | `alert/<alert key>`        | the box only, retained | an alert's current state               |
 * | `event`                    | the box only           | the event log, in seq order            |
 * | `status`                   | the box only, retained | the box's own status                   |
 *
 * Ids are config ids (`^[a-z0-9][a-z0-9_-]{0,31}$`), so they never contain `/`, `+` or `#`.
 * `cmd/box` is reserved: an actuator named `box` cannot be commanded over MQTT.
 */

export const TOPIC_VERSION_ROOT = 'sb/v1';
/** The `cmd/<target>` that addresses the box itself. */
export const BOX_TARGET = 'box';

export interface SiteTopics {
  /** `sb/v1/<site>` (no trailing slash). */
  readonly root: string;
  /** `sb/v1/<site>/#`: everything of this site. */
  all(): string;
  sensorReading(sensor: string): string;
  actuatorReport(actuator: string): string;
  deviceStatus(device: string): string;
  /** Commands for the box (officers, township). */
  boxCommand(): string;
  /** What became of each officer's or township account's command on this broker. */
  boxCommandResult(): string;
  /** Effects for one actuator (only the box publishes here). */
  actuatorCommand(actuator: string): string;
  /** An alert's retained state; the key may have several levels (`rg1/rain`). */
  alert(key: string): string;
  /** `sb/v1/<site>/alert/#` */
  alerts(): string;
  event(): string;
  status(): string;
}

/** Thrown for an id that cannot be one topic level (empty, or with `/`, `+`, `#`). */
export class TopicError extends Error {
  readonly code = 'E_TOPIC';
  constructor(message: string) {
    super(message);
    this.name = 'TopicError';
  }
}

function level(id: string, what: string): string {
  if (id.length === 0 || /[/+#\u0000]/.test(id)) throw new TopicError(`${what} '${id}' cannot be a topic level`);
  return id;
}

export function topics(site: string): SiteTopics {
  const root = `${TOPIC_VERSION_ROOT}/${level(site, 'site id')}`;
  return {
    root,
    all: () => `${root}/#`,
    sensorReading: (id) => `${root}/sensor/${level(id, 'sensor id')}/reading`,
    actuatorReport: (id) => `${root}/actuator/${level(id, 'actuator id')}/report`,
    deviceStatus: (id) => `${root}/device/${level(id, 'device id')}/status`,
    boxCommand: () => `${root}/cmd/${BOX_TARGET}`,
    boxCommandResult: () => `${root}/cmd/${BOX_TARGET}/result`,
    actuatorCommand: (id) => {
      if (id === BOX_TARGET) throw new TopicError(`'${BOX_TARGET}' is reserved for commands to the box`);
      return `${root}/cmd/${level(id, 'actuator id')}`;
    },
    alert: (key) => {
      if (key.split('/').some((l) => l.length === 0 || /[+#\u0000]/.test(l))) throw new TopicError(`alert key '${key}' is not a topic path`);
      return `${root}/alert/${key}`;
    },
    alerts: () => `${root}/alert/#`,
    event: () => `${root}/event`,
    status: () => `${root}/status`,
  };
}

/** What a concrete (wildcard-free) topic of this site is. */
export type ParsedTopic =
  | { kind: 'sensorReading'; sensor: string }
  | { kind: 'actuatorReport'; actuator: string }
  | { kind: 'deviceStatus'; device: string }
  | { kind: 'boxCommand' }
  | { kind: 'boxCommandResult' }
  | { kind: 'actuatorCommand'; actuator: string }
  | { kind: 'alert'; key: string }
  | { kind: 'event' }
  | { kind: 'status' };

export type TopicKind = ParsedTopic['kind'];

/**
 * Parses a concrete topic of `site`; `null` for anything else (another site, another version,
 * `$SYS`, wildcards, empty levels, unknown shapes).
 */
export function parseTopic(site: string, topic: string): ParsedTopic | null {
  const prefix = `${TOPIC_VERSION_ROOT}/${site}/`;
  if (!topic.startsWith(prefix)) return null;
  // Readings are nearly all the traffic (1,000 a second): read them without splitting.
  if (topic.startsWith('sensor/', prefix.length) && topic.endsWith('/reading')) {
    const sensor = topic.slice(prefix.length + 7, topic.length - 8);
    if (sensor.length > 0 && !/[/+#]/.test(sensor)) return { kind: 'sensorReading', sensor };
  }
  const rest = topic.slice(prefix.length).split('/');
  if (rest.some((l) => l.length === 0 || l.includes('+') || l.includes('#'))) return null;
  const [a, b, c] = rest;
  switch (rest.length) {
    case 1:
      if (a === 'event') return { kind: 'event' };
      if (a === 'status') return { kind: 'status' };
      return null;
    case 2:
      if (a === 'cmd') return b === BOX_TARGET ? { kind: 'boxCommand' } : { kind: 'actuatorCommand', actuator: b! };
      if (a === 'alert') return { kind: 'alert', key: b! };
      return null;
    case 3:
      if (a === 'sensor' && c === 'reading') return { kind: 'sensorReading', sensor: b! };
      if (a === 'actuator' && c === 'report') return { kind: 'actuatorReport', actuator: b! };
      if (a === 'device' && c === 'status') return { kind: 'deviceStatus', device: b! };
      if (a === 'cmd' && b === BOX_TARGET && c === 'result') return { kind: 'boxCommandResult' };
      if (a === 'alert') return { kind: 'alert', key: rest.slice(1).join('/') };
      return null;
    default:
      if (a === 'alert') return { kind: 'alert', key: rest.slice(1).join('/') };
      return null;
  }
}
