/**
 * Writes the uplink bench's backlog in a process of its own (so the bench's RSS is the box's,
 * not what writing a million rows left behind): argv DB_PATH EVENTS. Notes, 1,000 per
 * transaction, about 120 bytes of payload each, through the real EventStore.
 */
import pino from 'pino';
import { systemClock } from '../../gateway/shell/clock.ts';
import { EventStore } from '../../gateway/store/event-store.ts';
import { boxSite } from '../helpers/box-site.ts';

const [dbPath, n] = process.argv.slice(2);
const EVENTS = Number(n);
const config = await boxSite(dbPath!);
const store = new EventStore({ config, log: pino({ level: 'silent' }), clock: systemClock() }, { path: dbPath, schedule: false });
await store.start();
for (let i = 0; i < EVENTS; i += 1000) {
  store.appendMany(Array.from({ length: Math.min(1000, EVENTS - i) }, (_, j) => ({ type: 'note' as const, payload: { note: 'bench_backlog', detail: { i: i + j, sensor: 'rg1', rain_1h_mm: 12.5 } } })));
}
await store.stop();
