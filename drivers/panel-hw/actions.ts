/**
 * What the panel's controls send: the same `cmd/box` payloads an officer sends (broker/payloads.ts),
 * checked by the same validator, put on the bus with `{by: 'panel-hw', role: 'officer', via: 'panel_hw'}`.
 * The engine runner logs each with who sent it and answers within the emit, as for the web panel.
 */
import { randomUUID } from 'node:crypto';
import { checkCommand } from '../../gateway/broker/payloads.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { announce } from '../../gateway/planner/template.ts';
import type { Bus, CommandResult } from '../../gateway/shell/bus.ts';

/** Who the panel's commands are from, in the log and on the panel. */
export const PANEL_HW_BY = 'panel-hw';
/** How they arrived (CommandMeta `via`). */
export const PANEL_HW_VIA = 'panel_hw';

/** The broker schema's limit on a broadcast's text. */
const MAX_TEXT = 500;

const EVACUATE_ZH = '紧急情况,请立即疏散';
const EVACUATE_EN = 'this is an emergency, evacuate now';

/**
 * The emergency button's broadcast: the site's evacuation message on every zone (no `zones`:
 * the planner's all), as an officer's emergency (priority above everything but automatic
 * red/orange alarms), repeated as the site repeats alarms.
 *
 * Until named templates land (h/paneldata: `broadcasts.templates.evacuation` and the command's
 * `template` field) the text is the site's default broadcast template (actions.template_zh/en)
 * filled with an evacuation sentence; then this becomes
 * `{ type: 'broadcast', template: 'evacuation', emergency: true }`.
 */
export function evacuationCommand(config: SiteConfig): Record<string, unknown> {
  const t = announce(config, 'site', EVACUATE_ZH, EVACUATE_EN);
  // A long site template could fill past the schema's 500 characters; the bare sentence still says what to do.
  const fit = (s: string, bare: string): string => (s.length <= MAX_TEXT ? s : bare.slice(0, MAX_TEXT));
  return { type: 'broadcast', text_zh: fit(t.textZh, `${config.site.name}:${EVACUATE_ZH}。`), text_en: fit(t.textEn, `${config.site.nameEn}: ${EVACUATE_EN}.`), emergency: true, repeat: config.actions.broadcastRepeat };
}

export type Sent = { ok: true; result: CommandResult | null } | { ok: false; error: string };

/**
 * Checks `body` as the broker would an officer's and puts it on the bus. `result` is the
 * engine's answer (null if no engine listens); `ok: false` when the validator refused it.
 */
export function sendCommand(bus: Bus, config: SiteConfig, body: Record<string, unknown>): Sent {
  const id = `panel-hw-${randomUUID()}`;
  const checked = checkCommand(Buffer.from(JSON.stringify({ ...body, command_id: id }), 'utf8'), config.mqtt.maxPayloadBytes, PANEL_HW_BY, 'officer');
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
