/**
 * `ip_speakers` of the site config: defaults and the port rule (the audio server must not take
 * the broker's or the panel's port: the second listener would fail to start).
 */
import { IP_SPEAKER_DEFAULTS } from './defaults.ts';
import type { ConfigProblem } from './normalise.ts';
import type { IpSpeakersConfig } from './types.ts';

type Raw = Record<string, any>;

/** `mqtt` and `panel`: those sections with their defaults filled (raw keys), panel null when off. */
export function ipSpeakers(raw: Raw, mqtt: Raw, panel: Raw | null, problems: ConfigProblem[]): IpSpeakersConfig {
  const v: Raw = { ...IP_SPEAKER_DEFAULTS, host: mqtt.host, ...raw };
  const taken = [mqtt.port, mqtt.ws_port, ...(panel ? [panel.port] : [])].filter((p) => p !== 0);
  if (v.port !== 0 && taken.includes(v.port)) problems.push({ path: 'ip_speakers.port', message: `must differ from the broker's and the panel's ports (${taken.join(', ')})` });
  return { host: v.host, port: v.port, urlHost: v.url_host ?? null, renderWaitS: v.render_wait_s, english: v.english };
}
