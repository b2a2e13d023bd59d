/**
 * What the panel's controls send: the same `cmd/box` payloads an officer sends (broker/payloads.ts),
 * checked by the same validator, put on the bus with `{by: 'panel-hw', role: 'officer', via: 'panel_hw'}`.
 * The engine runner logs each with who sent it and answers within the emit, as for the web panel.
 */
import { randomUUID } from 'node:crypto';
import { checkCommand } from '../../gateway/broker/payloads.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import type { Bus, CommandResult } from '../../gateway/shell/bus.ts';

/** Who the panel's commands are from, in the log and on the panel. */
export const PANEL_HW_BY = 'panel-hw';
/** How they arrived (CommandMeta `via`). */
export const PANEL_HW_VIA = 'panel_hw';

/**
 * The emergency button's broadcast: the site's evacuation template (config
 * `broadcasts.templates.evacuation`, built in and changeable per site; the planner fills it per
 * zone with that zone's shelter and route) on every zone (no `zones`: the planner's all), as an
 * officer's emergency (priority above everything but automatic red/orange alarms), repeated as
 * the site repeats alarms.
 */
export function evacuationCommand(config: SiteConfig): Record<string, unknown> {
  return { type: 'broadcast', template: 'evacuation', emergency: true, repeat: config.actions.broadcastRepeat };
}

export type Sent = { ok: true; result: CommandResult | null } | { ok: false; error: string };

/**
 * Checks `body` as the broker would an officer's and puts it on the bus. `result` is the
 * engine's answer (null if no engine listens); `ok: false` when the validator refused it.
 */
export function sendCommand(bus: Bus, config: SiteConfig, body: Record<string, unknown>): Sent {
  const id = `panel-hw-${randomUUID()}`;
  const checked = checkCommand(Buffer.from(JSON.stringify({ ...body, command_id: id }), 'utf8'), config.mqtt.maxPayloadBytes, PANEL_HW_BY, 'officer', config.broadcasts.templates);
  if (!checked.ok) return { ok: false, error: `${checked.reason}: ${checked.detail}` };
  let result: CommandResult | null = null;
  const off = bus.on('commandResult', (r) => {
    if (result === null && r.via === PANEL_HW_VIA && r.commandId === id) result = r;
  });
  try {
    bus.emit('command', checked.value, { by: PANEL_HW_BY, role: 'officer', via: PANEL_HW_VIA });
  } finally {
    off();
  }
  return { ok: true, result };
}
