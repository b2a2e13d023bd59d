/**
 * GET /api/events?since=&until=&type=&zone=&limit=&after_seq=&format=json|csv
 * JSON: `{events: [...wire form], next_after_seq}` (at most `limit` ≤ 1000; page on with
 * `after_seq`). CSV: a header row and every matching event up to `limit` (default and at most
 * CSV_MAX), UTF-8 with a BOM, streamed page by page. Either way the store is read in bounded
 * pages with the event loop free between them (store/event-query.ts).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { EVENT_TYPES, type EventStore } from '../store/event-store.ts';
import { PAGE_EVENTS, type EventFilter } from '../store/event-query.ts';
import type { StoredEvent } from '../store/types.ts';
import { eventWire } from '../uplink/event-wire.ts';
import { requireSession } from './access.ts';
import { BOM, csvRow } from './csv.ts';
import { HttpError } from './errors.ts';
import type { Sessions } from './sessions.ts';
import type { BoxContext } from './state-types.ts';

export const JSON_MAX = 1000;
export const CSV_MAX = 100_000;

const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: { type: 'string', maxLength: 40 },
    until: { type: 'string', maxLength: 40 },
    type: { type: 'string', pattern: `^(${EVENT_TYPES.join('|')})(,(${EVENT_TYPES.join('|')}))*$` },
    zone: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' },
    limit: { type: 'integer', minimum: 1, maximum: CSV_MAX },
    after_seq: { type: 'integer', minimum: 0 },
    format: { enum: ['json', 'csv'] },
  },
} as const;

interface Query {
  since?: string;
  until?: string;
  type?: string;
  zone?: string;
  limit?: number;
  after_seq?: number;
  format?: 'json' | 'csv';
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function time(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  // ISO 8601 with a date; a time without an offset is read as UTC by Date.parse, so ask for one.
  const t = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new HttpError(400, `querystring.${name}: must be an ISO 8601 time with an offset, e.g. 2026-07-20T08:00:00+08:00`);
  return t;
}

/** What `matching` reads: the running store, or a read-only look at a log (`shaobing export`). */
export type EventPages = Pick<EventStore, 'eventsPage' | 'firstSeqFrom' | 'lastSeq'>;

/** Matching events in seq order, up to `max`, a bounded page at a time with a turn of the event loop between pages. */
export async function* matching(store: EventPages, f: EventFilter, afterSeq: number, max: number): AsyncGenerator<StoredEvent[], number | null> {
  let after = afterSeq;
  if (f.since !== undefined) after = Math.max(after, (store.firstSeqFrom(f.since) ?? store.lastSeq() + 1) - 1);
  let left = max;
  while (left > 0) {
    const page = store.eventsPage(f, after, Math.min(left, PAGE_EVENTS));
    left -= page.events.length;
    if (page.events.length) yield page.events;
    if (page.next === null) return null;
    after = page.next;
    if (left > 0) await turn();
  }
  return after;
}

function zoneOf(p: Record<string, unknown>): string {
  if (typeof p.zone === 'string') return p.zone;
  const zs = (p.zones ?? (p.command as Record<string, unknown> | undefined)?.zones) as unknown;
  return Array.isArray(zs) ? zs.join(' ') : '';
}

export const CSV_HEADER = ['seq', 'at', 'type', 'zone', 'alert', 'level', 'by', 'text_zh', 'text_en', 'clock_trusted', 'payload'];

export function csvLine(e: StoredEvent, offset: string, site: string): string {
  const w = eventWire(e, site, offset, false);
  const p = (e.payload !== null && typeof e.payload === 'object' ? e.payload : {}) as Record<string, unknown>;
  const cmd = p.command as Record<string, unknown> | undefined;
  return csvRow([e.seq, w.at, e.type, zoneOf(p), p.alert ?? '', p.level ?? '', p.by ?? p.username ?? '', p.textZh ?? cmd?.textZh ?? '', p.textEn ?? cmd?.textEn ?? '', e.clockTrusted, JSON.stringify(e.payload)]);
}

export function eventRoutes(app: FastifyInstance, ctx: BoxContext, store: EventStore, sessions: Sessions): void {
  app.get<{ Querystring: Query }>('/api/events', { preHandler: requireSession(sessions), schema: { querystring: query } }, async (req, reply) => {
    const q = req.query;
    const f: EventFilter = { since: time('since', q.since), until: time('until', q.until), ...(q.type ? { types: q.type.split(',') } : {}), ...(q.zone ? { zone: q.zone } : {}) };
    const { id: site, utcOffset } = ctx.config.site;
    if (q.format === 'csv') {
      const it = matching(store, f, q.after_seq ?? 0, q.limit ?? CSV_MAX);
      const lines = (async function* () {
        yield BOM + csvRow(CSV_HEADER);
        for await (const page of it) yield page.map((e) => csvLine(e, utcOffset, site)).join('');
      })();
      const day = new Date(ctx.clock.wall()).toISOString().slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="events-${site}-${day}.csv"`)
        .send(Readable.from(lines));
    }
    const limit = q.limit ?? 200;
    if (limit > JSON_MAX) throw new HttpError(400, `querystring.limit: must be <= ${JSON_MAX} for JSON (page with after_seq, or use format=csv)`);
    const events: Record<string, unknown>[] = [];
    const it = matching(store, f, q.after_seq ?? 0, limit);
    let r = await it.next();
    while (!r.done) {
      for (const e of r.value) {
        const w = eventWire(e, site, utcOffset, false);
        delete w.live;
        events.push(w);
      }
      r = await it.next();
    }
    return { events, next_after_seq: r.value };
  });
}
