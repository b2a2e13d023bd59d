/**
 * `sb/v1/<site>/cap` on the township broker: every alert transition as a CAP 1.2 message, made
 * by the box's exporter (cap/cap-xml.ts; Alert, then Updates and a Cancel with `references`),
 * not retained, QoS 1, with an MQTT 5 message expiry taken from the message's `expires`, so a
 * broker never hands a warning past its validity to a consumer that connects late.
 *
 * The expiry counts from now (the broker counts from when it receives the message), in whole
 * seconds rounded down and never 0: a message whose `expires` is less than a second away or
 * past is not sent at all, and the outcome says so (`skipped: 'expired'`) for the caller to
 * log. That happens for transitions replayed after a long outage (an Alert raised 7 h ago with
 * the exporter's 6 h validity). The transition still goes through the exporter, so the
 * reference chain of the next Update or Cancel names it. A Cancel has no `expires` and no
 * expiry: it must reach everyone who holds the warning it ends.
 */
import { CapExporter } from '../cap/cap-xml.ts';
import type { SiteConfig } from '../config/types.ts';
import type { AlertTransition } from '../engine/types.ts';
import type { SideMessage } from './side-message.ts';
import { townshipTopics } from './township-topics.ts';

export type CapOutcome =
  | { identifier: string; message: SideMessage }
  | { identifier: string; skipped: 'expired'; expires: string };

/** One per uplink: it owns the exporter, whose reference chains must see every transition. */
export class CapOut {
  private readonly exporter: CapExporter;
  private readonly topic: string;

  constructor(config: SiteConfig) {
    this.exporter = new CapExporter(config);
    this.topic = townshipTopics(config.site.id).cap();
  }

  /** The CAP message for `t` at wall time `nowWall` (epoch ms); `drill` marks it `Exercise`. */
  message(t: AlertTransition, nowWall: number, drill?: boolean): CapOutcome {
    const cap = this.exporter.export(t, drill);
    const base = { topic: this.topic, payload: cap.xml, retain: false, qos: 1 } as const;
    if (cap.expires === null) return { identifier: cap.identifier, message: { ...base } };
    const expirySeconds = Math.floor((Date.parse(cap.expires) - nowWall) / 1000);
    if (!(expirySeconds > 0)) return { identifier: cap.identifier, skipped: 'expired', expires: cap.expires };
    return { identifier: cap.identifier, message: { ...base, expirySeconds } };
  }
}
