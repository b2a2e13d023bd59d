/**
 * What the township sends the box (README "Township uplink"): commands on
 * `sb/v1/<site>/cmd/box`, checked with the local broker's own validator (broker/payloads.ts
 * checkCommand) and passed to the bus as the township account's; CAP warnings under
 * `sb/v1/cap/#`, passed to the CAP inbox. A bad payload is answered (`commandResult` with
 * `ok: false` and the reason) and logged, never thrown.
 */
import type { Logger } from 'pino';
import { checkCommand } from '../broker/payloads.ts';
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
  const r = checkCommand(payload, h.ctx.config.mqtt.maxPayloadBytes, h.by, 'township');
  if (!r.ok) {
    h.counts.rejectedCommands++;
    const error = `${r.reason}: ${r.detail}`;
    h.log.warn({ by: h.by, reason: r.reason, detail: r.detail }, 'township command rejected');
    h.ctx.bus.emit('commandResult', { commandId: commandIdOf(payload), ok: false, error, by: h.by, via: 'uplink' });
    return;
  }
  h.counts.commands++;
  h.log.info({ by: h.by, command: r.value.type }, 'township command received');
  h.ctx.bus.emit('command', r.value, { by: h.by, role: 'township', via: 'uplink' });
}

/** The sender's `command_id` from a payload the check refused, if one can be read; else null. */
export function commandIdOf(payload: Buffer): string | null {
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
    const id = (v as Record<string, unknown>).command_id ?? (v as Record<string, unknown>).commandId;
    return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : null;
  } catch {
    return null;
  }
}
