#!/usr/bin/env -S node --import tsx
/**
 * A township consumer of Shaobing boxes' events: joins the shared subscription
 * `$share/<group>/sb/v1/+/event` (MQTT 5), so several of these split the load, dedupes by
 * (site, seq), and prints each box's gaps (announced by the box, or unexplained) and lag.
 * See README.md here. Run: `node --import tsx examples/township-subscriber/subscriber.ts --help`.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { Ledger, MemorySeen, parseEvent, type Range, type SiteReport } from './ledger.ts';
import { SqliteSeen } from './sqlite-seen.ts';

const USAGE = `usage: subscriber.ts --url mqtt://host:1883 [options]
  --url URL              township broker (mqtt:// or mqtts://)
  --username NAME        broker account
  --password-file FILE   file holding the account's password (first line)
  --group NAME           shared-subscription group (default: township)
  --client-id ID         MQTT client id (default: township-<group>-<host>-<pid>); stable with --session-expiry-s
  --session-expiry-s N   keep the session N s across reconnects (default 0: a clean session)
  --ca-file FILE         CA certificate for mqtts://
  --store FILE           SQLite file shared by every consumer of the group: dedupe across them
  --report-s N           print the per-box report every N s (default 10; 0 = only at exit)
  --json                 JSON lines on stdout instead of text
  --print-events         also print each event (site, seq, fresh, lag)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      url: { type: 'string' },
      username: { type: 'string' },
      'password-file': { type: 'string' },
      group: { type: 'string', default: 'township' },
      'client-id': { type: 'string' },
      'session-expiry-s': { type: 'string', default: '0' },
      'ca-file': { type: 'string' },
      store: { type: 'string' },
      'report-s': { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
      'print-events': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!args.url || !/^mqtts?:\/\//.test(args.url)) fail('--url must be mqtt://host:port or mqtts://host:port');
if (!/^[A-Za-z0-9_-]+$/.test(args.group!)) fail('--group may hold only letters, digits, _ and - (it is one topic level)');
const reportS = Number(args['report-s']);
const sessionExpiry = Number(args['session-expiry-s']);
if (!Number.isFinite(reportS) || reportS < 0) fail('--report-s must be a number ≥ 0');
if (!Number.isInteger(sessionExpiry) || sessionExpiry < 0) fail('--session-expiry-s must be an integer ≥ 0');
let password: string | undefined;
if (args['password-file']) {
  try {
    password = readFileSync(args['password-file'], 'utf8').split(/\r?\n/)[0];
  } catch (err) {
    fail(`cannot read --password-file: ${(err as Error).message}`);
  }
}

const json = args.json!;
const out = (obj: Record<string, unknown>, text: string): void => void process.stdout.write(`${json ? JSON.stringify(obj) : text}\n`);
const shared = args.store ? new SqliteSeen(args.store) : null;
const ledger = new Ledger(shared ?? new MemorySeen());
const clientId = args['client-id'] ?? `township-${args.group}-${hostname()}-${process.pid}`;
const filter = `$share/${args.group}/sb/v1/+/event`;

const ranges = (rs: Range[]): string => rs.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ');
const secs = (ms: number | null): string => (ms === null ? '?' : `${(ms / 1000).toFixed(1)} s`);

function report(final: boolean): void {
  const sites: Record<string, SiteReport> = {};
  for (const site of ledger.sites()) sites[site] = ledger.report(site);
  const lag = ledger.lagPercentiles();
  const lines = Object.entries(sites).map(([s, r]) => {
    const parts = [`${s}: ${r.events} events, seq ${r.first ?? '-'}–${r.last ?? '-'}`];
    if (r.announced.length) parts.push(`announced gaps ${ranges(r.announced)} (unclean stop, not loss)`);
    if (r.gaps.length) parts.push(`MISSING ${ranges(r.gaps)}`);
    if (r.duplicates) parts.push(`${r.duplicates} duplicates dropped`);
    parts.push(`lag ${secs(r.lagLastMs)} (max ${secs(r.lagMaxMs)})`);
    return `  ${parts.join(', ')}`;
  });
  const snake = Object.fromEntries(Object.entries(sites).map(([s, r]) => [s, { events: r.events, first: r.first, last: r.last, announced: r.announced, gaps: r.gaps, duplicates: r.duplicates, lag_last_ms: r.lagLastMs, lag_max_ms: r.lagMaxMs }]));
  out(
    { kind: 'report', final, client_id: clientId, lag_p50_ms: lag.p50, lag_p99_ms: lag.p99, sites: snake },
    `report${final ? ' (final)' : ''} from ${clientId}: lag p50 ${secs(lag.p50)}, p99 ${secs(lag.p99)}\n${lines.join('\n') || '  no events yet'}`,
  );
}

const client = mqtt.connect(args.url, {
  protocolVersion: 5,
  clientId,
  clean: sessionExpiry === 0,
  properties: sessionExpiry > 0 ? { sessionExpiryInterval: sessionExpiry } : {},
  username: args.username,
  password,
  ca: args['ca-file'] ? readFileSync(args['ca-file']) : undefined,
  reconnectPeriod: 2000,
  connectTimeout: 10_000,
});

client.on('connect', (connack) => {
  if (connack.sessionPresent) return out({ kind: 'ready', client_id: clientId, session_present: true }, `resumed session as ${clientId}`);
  client.subscribe(filter, { qos: 1 }, (err, granted) => {
    const code = granted?.[0]?.qos;
    if (err || code === undefined || code > 1) {
      out({ kind: 'error', error: `subscribe to ${filter} refused: ${err?.message ?? `reason ${code}`}` }, `subscribe to ${filter} refused: ${err?.message ?? `reason code ${code}`} (check the account's ACL)`);
      return;
    }
    out({ kind: 'ready', client_id: clientId, filter }, `subscribed ${filter} as ${clientId}`);
  });
});
client.on('error', (err) => out({ kind: 'error', error: err.message }, `mqtt: ${err.message}`));
client.on('offline', () => out({ kind: 'offline' }, 'broker unreachable; retrying'));

// The handler is synchronous: the store has the event before mqtt.js sends the PUBACK, so an
// event this consumer acknowledged is recorded (at least once end to end).
client.on('message', (topic, payload) => {
  const p = parseEvent(topic, payload);
  if (!p.ok) return out({ kind: 'rejected', topic, reason: p.reason }, `rejected a message on ${topic}: ${p.reason}`);
  const a = ledger.accept(p.event, Date.now());
  if (a.announced && a.fresh) out({ kind: 'announced_gap', site: p.event.site, from: a.announced[0], to: a.announced[1] }, `${p.event.site}: seqs ${ranges([a.announced])} were skipped by the box (unclean stop), not lost`);
  if (args['print-events']) out({ kind: 'event', site: p.event.site, seq: p.event.seq, type: p.event.type, live: p.event.live, fresh: a.fresh, lag_ms: a.lagMs }, `${p.event.site} #${p.event.seq} ${p.event.type}${a.fresh ? '' : ' (duplicate)'} lag ${secs(a.lagMs)}`);
});

const timer = reportS > 0 ? setInterval(() => report(false), reportS * 1000) : null;
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  if (timer) clearInterval(timer);
  report(true);
  client.end(false, {}, () => {
    shared?.close();
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
