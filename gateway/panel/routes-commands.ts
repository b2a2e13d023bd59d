/**
 * POST /api/commands: exactly the `cmd/box` payloads the broker takes, checked by the same
 * validator (broker/payloads.ts checkCommand, with its role rules), then put on the bus as the
 * broker does, with `{by: <username>, role, via: 'panel'}`. The engine runner logs the command
 * with who sent it and answers `commandResult` within the emit (synchronously), which is the
 * HTTP answer: `{command_id, ok, error?}` (200 when carried out, 409 when the box refused it).
 * Observers may not send commands (403); a command for another role (a township command) is
 * 403 too; a payload the validator refuses is 400 with `path: message`.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { checkCommand } from '../broker/payloads.ts';
import type { CommandResult } from '../shell/bus.ts';
import { requireSession } from './access.ts';
import { HttpError } from './errors.ts';
import type { Sessions } from './sessions.ts';
import type { BoxContext } from './state-types.ts';

/** `/zones must be array` (the validator's form) as `body.zones: must be array`. */
export function bodyProblem(detail: string): string {
  // The discriminator's own words name no path: the type is what it could not place.
  if (detail.includes('tag "type"')) return 'body.type: not a command type (broadcast, siren, silence, stop, drill, drill_end, test, ack, escalate, …)';
  const m = /^(\(top\)|\/\S*) (.*)$/.exec(detail);
  if (!m) return `body: ${detail}`;
  const at = m[1] === '(top)' ? '' : m[1]!.slice(1).replace(/\//g, '.');
  return `body${at ? `.${at}` : ''}: ${m[2]}`;
}

export function commandRoutes(app: FastifyInstance, ctx: BoxContext, sessions: Sessions): void {
  app.post<{ Body: Record<string, unknown> }>('/api/commands', { preHandler: requireSession(sessions, ['officer']), schema: { body: { type: 'object' } } }, async (req, reply) => {
    const s = req.session!;
    const given = req.body.command_id ?? req.body.commandId;
    // Every panel command has an id, so its result is found among others' (the township's, MQTT's).
    const body = given === undefined ? { ...req.body, command_id: `panel-${randomUUID()}` } : req.body;
    const checked = checkCommand(Buffer.from(JSON.stringify(body), 'utf8'), ctx.config.mqtt.maxPayloadBytes, s.username, s.role, ctx.config.broadcasts.templates);
    if (!checked.ok) {
      req.log.warn({ by: s.username, reason: checked.reason, detail: checked.detail }, 'panel command refused');
      const error = checked.reason === 'schema' ? bodyProblem(checked.detail) : checked.reason === 'unknown_template' ? `body.${checked.detail}` : `body: ${checked.detail}`;
      throw new HttpError(checked.reason === 'not_allowed' ? 403 : 400, error);
    }
    const id = checked.value.commandId!;
    let result: CommandResult | null = null;
    const off = ctx.bus.on('commandResult', (r) => {
      if (result === null && r.via === 'panel' && r.commandId === id && r.by === s.username) result = r;
    });
    try {
      ctx.bus.emit('command', checked.value, { by: s.username, role: s.role, via: 'panel' });
    } finally {
      off();
    }
    const r = result as CommandResult | null;
    req.log.info({ by: s.username, role: s.role, via: 'panel', command: checked.value.type, command_id: id, ok: r?.ok ?? null, error: r?.error }, 'panel command');
    if (!r) return reply.code(503).send({ command_id: id, ok: false, error: 'the engine did not answer (is it running?)' });
    return reply.code(r.ok ? 200 : 409).send({ command_id: id, ok: r.ok, ...(r.error === undefined ? {} : { error: r.error }) });
  });
}
