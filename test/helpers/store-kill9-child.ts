/**
 * The process test/integration/store-kill9.test.ts kills with SIGKILL. It opens an EventStore
 * on argv[2] and appends as fast as it can, mixing events with raw readings, and prints
 * `acted <seq> <payload JSON>` after each append() returned — the moment the box would act on
 * the event. It yields to the event loop now and then so the reading batch timer runs too.
 *
 * It loads, prints `loaded` and waits for a line on stdin before it touches the database, so
 * the parent can start the next child while the previous one still runs (Node + tsx take
 * longer to start than a run lasts) and still have one writer at a time.
 *
 * Lines: `loaded`, `opening`, `ready <lastSeq>`, then `acted …` (and `checkpoints <n>` as the
 * store's checkpoint worker finishes them) until it is killed.
 * Lines go out with writeSync on fd 1 (retried while the pipe is full), so a printed line is in
 * the pipe before the next append begins. Through process.stdout they would queue in this
 * process once the pipe is full, and a kill would lose them: with appends no longer waiting for
 * an fsync the child can outrun the parent's reading (seen: 205 acted lines lost in one run).
 */
import pino from 'pino';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { EventStore, type EventType } from '../../gateway/store/event-store.ts';
import { say } from './say.ts';

const [path, run = '0'] = process.argv.slice(2);
if (!path) throw new Error('usage: store-kill9-child.ts DB_PATH [RUN]');

const types: EventType[] = ['transition', 'observation', 'effect', 'command', 'note', 'fault'];
// The store reads only `config.store`; a full parseConfig would load Ajv and the engine for
// nothing and make every one of the 30 starts slower.
const config = { store: { path, rawRetentionDays: 7, rollupRetentionDays: 400, eventRetentionDays: 365 } } as SiteConfig;
say('loaded');
await new Promise<void>((r) => process.stdin.once('data', () => r()));

const store = new EventStore({ config, log: pino({ level: 'silent' }), clock: systemClock() }, { path, schedule: false, readingFlushMs: 20 });
say('opening');
await store.start();
// The WAL checkpoints run in the store's worker thread: kills land while it checkpoints too.
await store.connectionNow?.checkpointer?.whenRunning(10_000);
say(`ready ${store.lastSeq()}`);
let checkpoints = 0;

for (let i = 0; ; i++) {
  for (let k = 0; k < 4; k++) store.addReading({ sensor: `s${k}`, value: i + k / 10, quality: 'good', atWall: Date.now() });
  const payload = { run: Number(run), i, pid: process.pid, text: '暴雨'.repeat(i % 40) };
  const seq = store.append(types[i % types.length]!, payload);
  say(`acted ${seq} ${JSON.stringify(payload)}`);
  if (i % 16 === 15) {
    await new Promise<void>((r) => setImmediate(r));
    const done = store.connectionNow?.checkpointer?.counts.done ?? 0;
    if (done > checkpoints) say(`checkpoints ${(checkpoints = done)}`);
  }
}
