/**
 * The IP speakers' audio, over plain HTTP on the LAN: `GET /audio/<clip>.wav?token=<token>` (or
 * the token as `Authorization: Bearer <token>`). Its own small listener, never the panel's: the
 * panel is optional and has its own sessions and CSRF rules for people; this serves devices
 * with per-broadcast tokens, and must answer while the panel is off or being restarted.
 *
 * - 200 `audio/wav`, the whole file (no ranges: a broadcast is played from its start).
 * - 401 `{"error":"token_missing"|"token_invalid"|"token_expired"}` with `WWW-Authenticate`,
 *   before anything about the clip is looked at (a clip's existence is no one's business).
 * - 503 `{"error":"render_failed"}`: the box could not make the audio; the speaker says the
 *   command's text with its own TTS. `render_pending` (with `Retry-After`) if it is still being
 *   made after `waitMs`.
 * - 404 any other path, 405 any other method.
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Check } from './grants.ts';
import type { Clip } from './clips.ts';

export interface AudioServerDeps {
  check(clip: string, token: string | null): Check;
  clip(id: string): Clip | undefined;
  /** How long a fetch waits for a clip still rendering. */
  waitMs: number;
  log: Logger;
  /** A fetch that was served: for the log. */
  served?(info: { clip: string; actuator: string; activity: string; bytes: number; ms: number }): void;
}

const PATH = /^\/audio\/([0-9a-f]{32})\.wav$/;
/** One line per refusal reason per this long: a LAN flood of bad tokens must not fill the SD card with log lines. */
const REFUSAL_LOG_MS = 10_000;

function json(res: ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function tokenOf(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth && /^Bearer /i.test(auth)) return auth.slice(7).trim() || null;
  return url.searchParams.get('token') || null;
}

const MESSAGES = {
  token_missing: 'this audio needs the token from its broadcast command (?token=… or Authorization: Bearer …)',
  token_invalid: 'the token does not open this audio',
  token_expired: 'the broadcast this token was for has ended',
} as const;

export class AudioServer {
  private server: Server | null = null;
  private readonly refusalLogged = new Map<string, number>();

  constructor(private readonly d: AudioServerDeps) {}

  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res).catch((err: unknown) => this.failed(res, err)));
    // Devices on the LAN, not browsers: short deadlines, few connections.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.maxConnections = 64;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.d.log.error({ err }, 'IP speaker audio server error'));
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private failed(res: ServerResponse, err: unknown): void {
    this.d.log.error({ err }, 'IP speaker audio request failed');
    if (!res.headersSent) json(res, 500, { error: 'internal' });
    else res.destroy();
  }

  private refused(req: IncomingMessage, why: string): void {
    const now = Date.now();
    const last = this.refusalLogged.get(why) ?? 0;
    if (now - last < REFUSAL_LOG_MS) return;
    this.refusalLogged.set(why, now);
    this.d.log.warn({ why, address: req.socket.remoteAddress, path: req.url?.split('?')[0] }, 'IP speaker audio refused (one line per reason per 10 s)');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://box');
    const m = PATH.exec(url.pathname);
    if (!m) return json(res, 404, { error: 'not_found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' });
    const id = m[1]!;
    const c = this.d.check(id, tokenOf(req, url));
    if (!c.ok) {
      this.refused(req, c.why);
      return json(res, 401, { error: c.why, message: MESSAGES[c.why] }, { 'www-authenticate': `Bearer realm="shaobing-audio", error="invalid_token"` });
    }
    const clip = this.d.clip(id);
    if (!clip) return json(res, 503, { error: 'render_failed', message: 'the audio is no longer kept; speak the text' });
    const t0 = performance.now();
    const r = clip.result ?? (await Promise.race([clip.done, new Promise<null>((resolve) => setTimeout(() => resolve(null), this.d.waitMs).unref())]));
    if (r === null) return json(res, 503, { error: 'render_pending', message: 'the audio is still being made; try again, or speak the text' }, { 'retry-after': '2' });
    if (!r.ok) return json(res, 503, { error: 'render_failed', message: `the box could not make this audio (${r.code}); speak the text` });
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': r.bytes, 'cache-control': 'no-store', 'x-duration-s': r.durationS.toFixed(2) });
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(clip.path);
    stream.on('error', (err) => this.failed(res, err));
    stream.on('end', () => this.d.served?.({ clip: id, actuator: c.grant.actuator, activity: c.grant.activity, bytes: r.bytes, ms: Math.round(performance.now() - t0) }));
    stream.pipe(res);
  }
}
