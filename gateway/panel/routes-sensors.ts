/**
 * GET /api/sensors/<id>/history?hours=24: one sensor's one-minute rollups (store/rollup.ts:
 * count, failed reads, min, max, mean, last of each minute), oldest first, for the chart; with
 * its kind, unit and what its rules compare against (water-level stages), so the chart can
 * draw them. Minutes not rolled up yet (the current one) are not in it. Unknown sensor: 404.
 */
import type { FastifyInstance } from 'fastify';
import { unitOf } from '../broker/payloads.ts';
import type { EventStore } from '../store/event-store.ts';
import { wallTime } from '../wire.ts';
import { requireSession } from './access.ts';
import { HttpError } from './errors.ts';
import type { Sessions } from './sessions.ts';
import type { BoxContext } from './state-types.ts';

const MIN = 60_000;

export function sensorRoutes(app: FastifyInstance, ctx: BoxContext, store: EventStore, sessions: Sessions): void {
  const schema = {
    params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
    querystring: { type: 'object', additionalProperties: false, properties: { hours: { type: 'number', exclusiveMinimum: 0, maximum: 24 * 31, default: 24 } } },
  } as const;
  app.get<{ Params: { id: string }; Querystring: { hours: number } }>('/api/sensors/:id/history', { preHandler: requireSession(sessions), schema }, async (req) => {
    const sensor = ctx.config.sensors.find((s) => s.id === req.params.id);
    if (!sensor) throw new HttpError(404, `params.id: no sensor '${req.params.id.slice(0, 64)}' in this site`);
    const now = ctx.clock.wall();
    const through = Math.floor(now / MIN);
    const after = through - Math.ceil(req.query.hours * 60);
    const off = ctx.config.site.utcOffset;
    const rows = store.sensorRollups(sensor.id, after, through);
    return {
      sensor: sensor.id,
      kind: sensor.kind,
      unit: unitOf(sensor),
      name: sensor.name,
      from: wallTime((after + 1) * MIN, off),
      to: wallTime((through + 1) * MIN, off),
      stages: sensor.kind === 'water_level' ? sensor.stages : null,
      minutes: rows.map((r) => ({ at: wallTime(r.minute * MIN, off), n: r.n, errors: r.errors, min: r.min, max: r.max, mean: r.mean, last: r.last })),
    };
  });
}
