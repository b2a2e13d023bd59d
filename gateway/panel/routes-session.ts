/**
 * POST /api/session (sign in), GET /api/session (who am I, and the CSRF token), DELETE
 * /api/session (sign out). Every sign-in, sign-out, expiry and lockout is in the box log with
 * who and from where, and in the event log as a `session` event; a plain wrong password is in
 * the box log only, at most one line a minute per username and address (the lockout bounds
 * guesses at known usernames, but unknown usernames cost nothing to send, and the logs are on
 * the SD card).
 */
import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../broker/auth.ts';
import { LogThrottle } from '../broker/log-throttle.ts';
import { requireSession, COOKIE, cookieOptions } from './access.ts';
import { HttpError } from './errors.ts';
import type { PanelRecorder } from './recorder.ts';
import type { Session, Sessions } from './sessions.ts';

const signInBody = {
  type: 'object',
  additionalProperties: false,
  required: ['username', 'password'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

export function sessionView(sessions: Sessions, s: Session, wall: (ms: number) => string): Record<string, unknown> {
  const e = sessions.expiresAt(s);
  return { username: s.username, role: s.role, csrf_token: s.csrf, idle_expires_at: wall(e.idle), expires_at: wall(e.absolute) };
}

export function sessionRoutes(app: FastifyInstance, sessions: Sessions, auth: Authenticator, rec: PanelRecorder, wall: (ms: number) => string, now: () => number): void {
  const failures = new LogThrottle(60_000, now);
  app.post<{ Body: { username: string; password: string } }>('/api/session', { schema: { body: signInBody } }, async (req, reply) => {
    const { username, password } = req.body;
    const address = req.ip;
    const out = await auth.check(username, Buffer.from(password, 'utf8'), address, () => req.raw.destroyed);
    if (out.ok) {
      // A session cookie the browser still holds is replaced: one sign-in, one session.
      const old = req.cookies[COOKIE];
      if (old) sessions.end(old, 'replaced');
      const s = sessions.create(username, out.principal.role, address);
      rec.session('sign_in', s.username, s.role, address);
      reply.setCookie(COOKIE, s.token, cookieOptions(sessions.idleMs / 1000));
      return sessionView(sessions, s, wall);
    }
    if (out.reason === 'busy' || out.reason === 'gone') {
      reply.header('retry-after', '1');
      throw new HttpError(503, 'the box is busy checking sign-ins; try again in a second');
    }
    if (out.reason === 'locked_out') {
      const s = Math.ceil((out.lockedForMs ?? 1000) / 1000);
      rec.log.warn({ username, address, locked_for_s: s }, 'panel sign-in refused: locked out');
      reply.header('retry-after', String(s));
      throw new HttpError(429, `too many failed sign-ins for ${username} from this address; try again in ${s} s`, { retry_after_s: s });
    }
    // Unknown usernames cost a guesser nothing: one line per username@address a minute at most (the SD card).
    const quiet = failures.take(`${username.slice(0, 64)}@${address}`);
    if (quiet) rec.log.warn({ username, address, reason: out.reason, suppressed: quiet.suppressed }, 'panel sign-in failed');
    if (out.lockedForMs !== undefined) rec.session('locked_out', username, null, address, { locked_for_s: Math.ceil(out.lockedForMs / 1000) });
    throw new HttpError(401, 'wrong username or password');
  });

  app.get('/api/session', { preHandler: requireSession(sessions) }, async (req) => sessionView(sessions, req.session!, wall));

  app.delete('/api/session', { preHandler: requireSession(sessions) }, async (req, reply) => {
    const s = req.session!;
    sessions.end(s.token, 'signed_out');
    reply.clearCookie(COOKIE, { path: '/' });
    return { ok: true };
  });
}
