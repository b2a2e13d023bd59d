/**
 * The running box with a township uplink in its own process, for
 * test/integration/uplink-kill9.test.ts to SIGKILL mid-drain. argv: DB_PATH UPLINK_URL
 * PASSWORD_FILE. stdin, one command a line:
 *   `burst <n>` → logs n note events (the real record path), answers `ok <last seq>`
 *   `state`     → `state <JSON of the uplink state>`
 * After start it prints `ready`.
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { startBox } from '../../gateway/box.ts';
import { record } from '../../gateway/shell/record.ts';
import { boxSite } from './box-site.ts';
import { say } from './say.ts';

const [dbPath, url, pwFile] = process.argv.slice(2);
if (!dbPath || !url || !pwFile) throw new Error('usage: uplink-box-child.ts DB_PATH UPLINK_URL PASSWORD_FILE');
const config = await boxSite(dbPath, `uplink: { url: "${url}", username: sb-itest, password_file: ${pwFile}, window: 16 }`);
const box = await startBox({
  config,
  log: pino({ level: process.env.BOX_CHILD_LOG ?? 'silent' }, pino.destination(2)),
  tcpPort: 0,
  wsPort: 0,
  uplinkTimings: { retryFirstMs: 100, retryMaxMs: 400, cursorEveryMs: 20 },
});
say('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'burst') {
    for (let i = 0; i < Number(arg); i++) record(box.ctx, box.store, 'note', { what: 'burst', i, pid: process.pid });
    say(`ok ${box.store.lastSeq()}`);
  } else if (cmd === 'state') {
    say(`state ${JSON.stringify(box.uplink!.state())}`);
  }
}
