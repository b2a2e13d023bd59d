/**
 * What the panel API costs the main thread (issue 17, server part; the browser benchmark
 * `panel` comes with the page):
 * 1. A filtered export over a big log: `events` events (default 1,000,000; 1 % transitions in
 *    zone b3), read the way GET /api/events reads it (store/event-query.ts pages): how long each
 *    synchronous page call holds the event loop (p50/p99/max) and the whole export.
 * 2. The live stream: a real box with the panel and one SSE client over loopback; `live` events
 *    logged 20 ms apart (officers' commands on the bus); from the bus `logged` emit to the
 *    client reading it (p50/p99).
 * Run: `npm run bench -- panel-api [events] [live events]`.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock } from '../../gateway/shell/clock.ts';
import { PAGE_EVENTS, type EventFilter } from '../../gateway/store/event-query.ts';
import { openStore, tempDir, T0 } from '../helpers/store-rig.ts';
import { startBoxRig } from '../helpers/box-rig.ts';
import { panelClient } from '../helpers/panel-client.ts';
import { percentile } from './bench-site.ts';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const LIVE = Number(process.argv[3] ?? 300);

const sorted = (xs: number[]): Float64Array => Float64Array.from(xs).sort();
const r2 = (x: number): number => Math.round(x * 100) / 100;

async function exportPhase(): Promise<Record<string, number>> {
  const path = join(tempDir('sb-panel-bench-'), 'big.db');
  const first = await openStore(path);
  await first.store.stop();
  const db = new Database(path);
  const ins = db.prepare('INSERT INTO events (seq, type, at_wall, at_mono, boot, clock_trusted, payload) VALUES (?, ?, ?, ?, ?, 1, ?)');
  db.transaction(() => {
    for (let i = 1; i <= EVENTS; i++) {
      const t = i % 100 === 0;
      ins.run(i, t ? 'transition' : 'effect', T0 + i * 30, i * 30, 'b', JSON.stringify(t ? { alert: `a${i}`, zone: 'b3', level: 'red', textZh: '3号楼火警' } : { type: 'siren', zone: 'site', activity: `act-${i}` }));
    }
  })();
  db.close();
  const { store } = await openStore(path);
  const run = async (f: EventFilter): Promise<{ pages: number[]; found: number; s: number }> => {
    const pages: number[] = [];
    const t0 = performance.now();
    let after = 0;
    let found = 0;
    for (;;) {
      const s = performance.now();
      const p = store.eventsPage(f, after, PAGE_EVENTS);
      pages.push(performance.now() - s);
      found += p.events.length;
      if (p.next === null) break;
      after = p.next;
      await new Promise((r) => setImmediate(r));
    }
    return { pages, found, s: (performance.now() - t0) / 1000 };
  };
  const { pages, found, s: exportS } = await run({ types: ['transition'], zone: 'b3' });
  // A zone alone that nearly every row names: the JSON of every row parsed, the dearest filter.
  const zoneOnly = await run({ zone: 'site' });
  const zs = sorted(zoneOnly.pages);
  const s = performance.now();
  const since = store.firstSeqFrom(T0 + EVENTS * 15);
  const bisectMs = performance.now() - s;
  await store.stop();
  const ps = sorted(pages);
  if (found !== Math.floor(EVENTS / 100) || since === null) throw new Error(`found ${found}, since ${since}`);
  return { log_events: EVENTS, export_matched: found, export_pages: pages.length, page_ms_p50: r2(percentile(ps, 0.5)), page_ms_p99: r2(percentile(ps, 0.99)), page_ms_max: r2(ps[ps.length - 1]!), export_s: r2(exportS), zone_page_ms_p99: r2(percentile(zs, 0.99)), zone_page_ms_max: r2(zs[zs.length - 1]!), zone_export_s: r2(zoneOnly.s), since_bisect_ms: r2(bisectMs) };
}

async function livePhase(): Promise<Record<string, number>> {
  const rig = await startBoxRig('panel: { host: 127.0.0.1, port: 0 }', { clock: systemClock() });
  const loggedAt = new Map<number, number>();
  rig.box.ctx.bus.on('logged', (e) => loggedAt.set(e.seq, performance.now()));
  const c = panelClient(rig.panelUrl!);
  await c.signIn('wang');
  const res = await c.req('GET', '/api/live');
  const reader = res.body!.getReader();
  const lat: number[] = [];
  let buf = '';
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const now = performance.now();
      buf += Buffer.from(value).toString('utf8');
      const blocks = buf.split('\n\n');
      buf = blocks.pop()!;
      for (const b of blocks) {
        const m = /^event: logged\nid: (\d+)/.exec(b);
        const at = m ? loggedAt.get(Number(m[1])) : undefined;
        if (at !== undefined) lat.push(now - at);
      }
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < LIVE; i++) {
    rig.box.ctx.bus.emit('command', { type: 'silence', by: 'wang', commandId: `bench-${i}` }, { by: 'wang', role: 'officer', via: 'panel' });
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 300));
  await c.req('DELETE', '/api/session');
  await reading;
  await rig.stop();
  const ls = sorted(lat);
  return { live_events: lat.length, live_ms_p50: r2(percentile(ls, 0.5)), live_ms_p99: r2(percentile(ls, 0.99)), live_ms_max: r2(ls[ls.length - 1]!) };
}

const a = await exportPhase();
const b = await livePhase();
console.log(JSON.stringify({ ...a, ...b }));
