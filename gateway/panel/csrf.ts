/**
 * The CSRF rule: every POST and DELETE but the sign-in carries the session's CSRF token in an
 * `x-csrf-token` header (returned at sign-in and by GET /api/session), compared in constant
 * time. The session cookie is SameSite=Strict too; the header is the second, independent lock
 * (a browser without SameSite, a sibling site on the same host). The sign-in itself needs no
 * token: it only accepts `application/json`, which a cross-site form cannot send without a
 * CORS preflight, and the panel answers no preflight.
 */
import { timingSafeEqual } from 'node:crypto';

export const CSRF_HEADER = 'x-csrf-token';

export function csrfMatches(expected: string, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Methods that change something: every one needs the token. GET and HEAD never change anything. */
export function changesState(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}
