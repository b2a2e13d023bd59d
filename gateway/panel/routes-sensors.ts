/**
 * GET /api/sensors/<id>/history?hours=24: one sensor's one-minute rollups (store/rollup.ts:
 * count, failed reads, min, max, mean, last of each minute), oldest first, for the chart; with
 * its kind, unit and what its rules compare against (water-level stages), so the chart can
 * draw them. Minutes not rolled up yet (the current one) are not in it. Unknown sensor: 404.
 *
 * A rain gauge also gets its rain per clock hour, rolling 1–24 h sums and the thresholds its
 * rules hold now, township overrides included (rain-history.ts); the 24 h before the range are
 * read with it (one query) so the first sums are whole.
 */
import type { FastifyInstance } from 'fastify';
import { unitOf } from '../broker/payloads.ts';
import type { RainSensor } from '../config/types.ts';
import { activeThresholds, type ThresholdOverride } from '../engine/thresholds.ts';
import type { EngineRunner } from '../shell/engine-runner.ts';
import type { EventStore } from '../store/event-store.ts';
import type { RollupRow } from '../store/rollup-rows.ts';
import { offsetMinutes, wallTime } from '../wire.ts';
import { requireSession } from './access.ts';
import { HttpError } from './errors.ts';
import { LOOKBACK_MIN, rainPerMinute, rainWindows, rollingStepMin } from './rain-history.ts';
import type { Sessions } from './sessions.ts';
import type { BoxContext } from './state-types.ts';

const MIN = 60_000;

/** A rain gauge's rules as the engine holds them now: the config's, with the township's overrides in force. */
export function rainThresholds(sensor: RainSensor, overrides: readonly ThresholdOverride[], wall: (ms: number) => string): Record<string, unknown>[] {
  return sensor.rules.map((r) => {
    const o = overrides.find((x) => x.sensor === sensor.id && x.threshold === `rain_${r.windowH}h_${r.level}`);
    return {
      level: r.level,
      window_h: r.windowH,
      mm: o ? o.value : r.mm,
      name: r.name,
      label: r.label,
      override: o ? { by: o.by, until: wall(o.until), original_mm: o.original } : null,
    };
  });
}

function rainFigures(sensor: RainSensor, rows: readonly RollupRow[], fromMinute: number, throughMinute: number, hours: number, utcOffset: string): Record<string, unknown> {
  const stepMin = rollingStepMin(hours);
  const { hourly, rolling } = rainWindows(rainPerMinute(rows, sensor), { fromMinute, throughMinute, stepMin, offsetMin: offsetMinutes(utcOffset) });
  return {
    hourly: hourly.map((h) => ({ at: wallTime(h.at, utcOffset), mm: h.mm })),
    rolling_step_min: stepMin,
    rolling: rolling.map((p) => ({ ...p, at: wallTime(p.at, utcOffset) })),
  };
}

export function sensorRoutes(app: FastifyInstance, ctx: BoxContext, store: EventStore, sessions: Sessions, engine?: EngineRunner): void {
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
    const rain = sensor.kind === 'rain';
    const all = store.sensorRollups(sensor.id, rain ? after - LOOKBACK_MIN : after, through);
    const rows = rain ? all.filter((r) => r.minute > after) : all;
    const wall = (ms: number): string => wallTime(ms, off);
    const overrides = engine?.read((core) => activeThresholds(core.engine)) ?? [];
    return {
      sensor: sensor.id,
      kind: sensor.kind,
      unit: unitOf(sensor),
      name: sensor.name,
      from: wallTime((after + 1) * MIN, off),
      to: wallTime((through + 1) * MIN, off),
      stages: sensor.kind === 'water_level' ? sensor.stages : null,
      minutes: rows.map((r) => ({ at: wallTime(r.minute * MIN, off), n: r.n, errors: r.errors, min: r.min, max: r.max, mean: r.mean, last: r.last })),
      ...(rain ? { ...rainFigures(sensor, all, after + 1, through, req.query.hours, off), thresholds: rainThresholds(sensor, overrides, wall) } : { hourly: null, rolling_step_min: null, rolling: null, thresholds: null }),
    };
  });
}
