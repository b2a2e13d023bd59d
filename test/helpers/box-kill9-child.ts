/**
 * The running box (startBox, the test site of box-site.ts) in its own process, for
 * test/integration/box-kill9-restore.test.ts to SIGKILL. Its clocks are fake and move only when
 * told, so minutes of river and smoke pass in milliseconds: wall = argv[3] + t, mono = t.
 *
 * stdin, one command a line, each answered on stdout (writeSync, so an answer is in the pipe
 * before the next command is read):
 *   `advance <ms>`  → `ok <t>`
 *   `state`         → `state <JSON {active, events}>`: the engine's active alerts and every
 *                     event this process logged (its boot id), in seq order.
 * After start it prints `ready <broker tcp port>`.
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { startBox } from '../../gateway/box.ts';
import type { Clock } from '../../gateway/shell/clock.ts';
import { boxSite } from './box-site.ts';
import { say } from './say.ts';

const [dbPath, wallStart] = process.argv.slice(2);
if (!dbPath || !wallStart) throw new Error('usage: box-kill9-child.ts DB_PATH WALL_START_MS');
let t = 0;
const clock: Clock = { wall: () => Number(wallStart) + t, mono: () => t, trusted: () => true, boot: `kill9-${process.pid}` };
// A river probe with rise thresholds over a 10-minute window, and alerts that wait no duration.
const config = await boxSite(dbPath);
const box = await startBox({ config, log: pino({ level: process.env.BOX_CHILD_LOG ?? 'silent' }, pino.destination(2)), clock, tcpPort: 0, wsPort: 0 });
say(`ready ${box.broker.tcpPort}`);

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'advance') {
    t += Number(arg);
    say(`ok ${t}`);
  } else if (cmd === 'state') {
    const events = box.store.since(0).filter((e) => e.boot === clock.boot).map((e) => ({ seq: e.seq, type: e.type, payload: e.payload }));
    say(`state ${JSON.stringify({ active: box.engine.active(), events })}`);
  }
}
