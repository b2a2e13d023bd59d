/**
 * Who a request is, in one place: the session cookie (401 without a live session), the CSRF
 * header on every state-changing method (403), then the route's role (403). In that order, so
 * a client without a session always learns it must sign in first.
 */
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../shell/bus.ts';
import { changesState, CSRF_HEADER, csrfMatches } from './csrf.ts';
import { HttpError } from './errors.ts';
import type { Session, Sessions } from './sessions.ts';

export const COOKIE = 'sb_session';

declare module 'fastify' {
  interface FastifyRequest {
    session: Session | null;
  }
}

/** The cookie: HttpOnly (no script reads it), SameSite=Strict, Path=/. Not `Secure`: the box serves plain HTTP on the LAN (no certificate a phone would trust). */
export function cookieOptions(maxAgeS: number): { httpOnly: true; sameSite: 'strict'; path: '/'; maxAge: number } {
  return { httpOnly: true, sameSite: 'strict', path: '/', maxAge: Math.max(1, Math.floor(maxAgeS)) };
}

/** A preHandler: a signed-in session (of one of `roles`, if given), with CSRF on POST/DELETE. */
export function requireSession(sessions: Sessions, roles?: readonly Role[]) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const s = sessions.get(req.cookies[COOKIE]);
    if (!s) throw new HttpError(401, 'sign in first (POST /api/session)');
    if (changesState(req.method) && !csrfMatches(s.csrf, req.headers[CSRF_HEADER])) throw new HttpError(403, `${CSRF_HEADER}: missing or wrong (it is returned at sign-in and by GET /api/session)`);
    if (roles && !roles.includes(s.role)) throw new HttpError(403, `the ${s.role} role may not do this (needs ${roles.join(' or ')})`);
    sessions.touch(s);
    req.session = s;
  };
}
