/**
 * What the township sends the box (README "Township uplink"): commands on
 * `sb/v1/<site>/cmd/box`, checked with the local broker's own validator (broker/payloads.ts
 * checkCommand) and passed to the bus as the township account's; CAP warnings under
 * `sb/v1/cap/#`, passed to the CAP inbox. A bad payload is answered (`commandResult` with
 * `ok: false` and the reason) and logged, never thrown.
 */
import type { Logger } from 'pino';
import { checkCommand, commandIdOf } from '../broker/payloads.ts';
import type { BoxContext } from '../shell/module.ts';

export interface InboundHost {
  ctx: BoxContext;
  log: Logger;
  /** `township:<uplink username>`: who the township's commands are from. */
  by: string;
  /** `sb/v1/<site>/cmd/box` */
  commandTopic: string;
  counts: { commands: number; rejectedCommands: number; cap: number };
}

export function inbound(h: InboundHost, topic: string, payload: Buffer): void {
  try {
    if (topic === h.commandTopic) return command(h, payload);
    if (topic.startsWith('sb/v1/cap/')) {
      h.counts.cap++;
      h.ctx.bus.emit('townshipCap', { topic, payload });
    }
  } catch (err) {
    h.log.error({ err, topic }, 'uplink inbound message handling failed');
  }
}

function command(h: InboundHost, payload: Buffer): void {
  const r = checkCommand(payload, h.ctx.config.mqtt.maxPayloadBytes, h.by, 'township', h.ctx.config.broadcasts.templates);
  if (!r.ok) {
    h.counts.rejectedCommands++;
    const error = `${r.reason}: ${r.detail}`;
    h.log.warn({ by: h.by, reason: r.reason, detail: r.detail }, 'township command rejected');
    h.ctx.bus.emit('commandResult', { commandId: commandIdOf(payload, h.ctx.config.mqtt.maxPayloadBytes), ok: false, error, by: h.by, via: 'uplink' });
    return;
  }
  h.counts.commands++;
  h.log.info({ by: h.by, command: r.value.type }, 'township command received');
  h.ctx.bus.emit('command', r.value, { by: h.by, role: 'township', via: 'uplink' });
}
