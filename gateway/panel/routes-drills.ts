/**
 * GET /api/drills (every drill the log holds, newest first) and GET /review/<id> (one drill's
 * review, 复盘: a printable HTML page, drill-review.ts and review-html.ts). Both for any
 * signed-in role; a GET changes nothing.
 *
 * The log is append-only, so the drills found so far stay found: the index reads only the
 * command events logged since it last looked, in the store's bounded pages with the event loop
 * free between them (store/event-query.ts), so the first look over a year of events never holds
 * up an alarm and every later one costs what was logged since. A review reads the drill's own
 * events the same way, at most MAX_ENTRIES of them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EVENT_TYPES, type EventStore } from '../store/event-store.ts';
import { PAGE_EVENTS } from '../store/event-query.ts';
import type { StoredEvent } from '../store/types.ts';
import { wallTime } from '../wire.ts';
import { requireSession } from './access.ts';
import { addDrills, drillReview, endsWithDrill, MAX_ENTRIES, type DrillRun } from './drill-review.ts';
import { HttpError } from './errors.ts';
import { notFoundHtml, reviewHtml, signInHtml, STYLE_HASH } from './review-html.ts';
import type { Sessions } from './sessions.ts';
import type { BoxContext } from './state-types.ts';

/** Drills remembered at most (a drill a week for 20 years). */
export const MAX_DRILLS = 1000;

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The drills of the log, found a page of command events at a time since the last look. */
export class DrillIndex {
  private runs: DrillRun[] = [];
  /** Every seq up to here was examined (and is on the disk: never looked at again). */
  private scanned = 0;
  /** The last command event taken: one examined twice (written, not yet on the disk) is not taken again. */
  private taken = 0;
  private looking: Promise<void> | null = null;

  constructor(private readonly store: EventStore) {}

  async drills(): Promise<readonly DrillRun[]> {
    // One look at a time: two pages asking at once share it.
    this.looking ??= this.look().finally(() => (this.looking = null));
    await this.looking;
    return this.runs;
  }

  private async look(): Promise<void> {
    let after = this.scanned;
    for (;;) {
      const page = this.store.eventsPage({ types: ['command'] }, after, PAGE_EVENTS);
      const fresh = page.events.filter((e) => e.seq > this.taken);
      addDrills(this.runs, fresh);
      if (fresh.length) this.taken = fresh.at(-1)!.seq;
      if (this.runs.length > MAX_DRILLS) this.runs.splice(0, this.runs.length - MAX_DRILLS);
      if (page.next === null) break;
      after = page.next;
      await turn();
    }
    // Everything on the disk was examined, in this same turn: every seq the disk has confirmed is
    // done with. Events written since (or held in memory while the disk fails) are read next time.
    this.scanned = Math.max(this.scanned, Math.min(this.store.durableSeq(), this.store.lastSeq()));
  }
}

/** Observations (counter wraps, late readings) say nothing of a drill and can be many: a review leaves them out. */
const REVIEWED = EVENT_TYPES.filter((t) => t !== 'observation');

/** The drill's events: from its command through its end command and that commit's stops, a page at a time. */
async function drillEvents(store: EventStore, d: DrillRun): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let after = d.id - 1;
  const last = d.endSeq ?? Number.POSITIVE_INFINITY;
  for (;;) {
    const page = store.eventsPage({ types: REVIEWED }, after, PAGE_EVENTS);
    for (const e of page.events) {
      if (e.seq > last && !endsWithDrill(e)) return out;
      out.push(e);
      // A few over the bound, so the review can say how much it left out.
      if (out.length > MAX_ENTRIES + 1) return out;
    }
    if (page.next === null) return out;
    after = page.next;
    await turn();
  }
}

/** The review page's headers: no script, no loads, only its own style; never cached (it holds names and times). */
function htmlHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', `default-src 'none'; style-src '${STYLE_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer');
}

export function drillRoutes(app: FastifyInstance, ctx: BoxContext, store: EventStore, sessions: Sessions): void {
  const index = new DrillIndex(store);
  const { site } = ctx.config;
  const wall = (ms: number): string => wallTime(ms, site.utcOffset);

  app.get('/api/drills', { preHandler: requireSession(sessions) }, async () => {
    const runs = await index.drills();
    return { drills: [...runs].reverse().map((d) => ({ id: d.id, since: wall(d.since), until: d.until === null ? null : wall(d.until), by: d.by, ended_by: d.endedBy, kind: d.kind, level: d.level, zones: d.zones, review: `/review/${d.id}` })) };
  });

  // A person opens this in a browser: without a session it says so in a page, not in JSON.
  const session = requireSession(sessions);
  const pageSession = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      await session(req, reply);
    } catch (err) {
      if (err instanceof HttpError && err.status === 401) return void htmlHeaders(reply.code(401)).send(signInHtml());
      throw err;
    }
  };
  const params = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } } } as const;
  app.get<{ Params: { id: string } }>('/review/:id', { preHandler: pageSession, schema: { params } }, async (req, reply) => {
    const id = Number(req.params.id);
    const d = (await index.drills()).find((x) => x.id === id);
    if (!d) return htmlHeaders(reply.code(404)).send(notFoundHtml(req.params.id));
    const events = await drillEvents(store, d);
    const review = drillReview(d, events, { templates: ctx.config.broadcasts.templates, patterns: ctx.config.actions.patterns });
    const zoneNames = Object.fromEntries(ctx.config.zones.map((z) => [z.id, { zh: z.name, en: z.nameEn }]));
    return htmlHeaders(reply).send(reviewHtml(review, { site: { id: site.id, name: site.name, nameEn: site.nameEn, utcOffset: site.utcOffset }, zoneNames, generatedAt: ctx.clock.wall() }));
  });
}
