/**
 * The panel API from the page (README "Panel API"): the session cookie travels by itself
 * (HttpOnly, SameSite=Strict); the CSRF token from sign-in goes in `x-csrf-token` on every
 * POST and DELETE. A 401 anywhere but the sign-in means the session ended: the page signs out.
 */
import type { SessionInfo } from './types.ts';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly body: Record<string, unknown> | null) {
    super(message);
  }
}

let csrf: string | null = null;
let onSignedOut: () => void = () => undefined;

export function setSignedOutHandler(f: () => void): void {
  onSignedOut = f;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  let r: Response;
  try {
    r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, err instanceof Error ? err.message : String(err), null);
  }
  const text = await r.text();
  let data: Record<string, unknown> | null = null;
  try {
    data = text ? (JSON.parse(text) as Record<string, unknown>) : null;
  } catch {
    data = null;
  }
  // A wrong password at sign-in is a 401 too, and not a session ending.
  if (r.status === 401 && !(path === '/api/session' && method === 'POST')) onSignedOut();
  if (!r.ok && !(r.status === 409 && data && data.ok === false)) throw new ApiError(r.status, typeof data?.error === 'string' ? data.error : `${r.status} ${r.statusText}`, data);
  return data as T;
}

export async function currentSession(): Promise<SessionInfo | null> {
  try {
    const s = await call<SessionInfo>('GET', '/api/session');
    csrf = s.csrf_token;
    return s;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

export async function signIn(username: string, password: string): Promise<SessionInfo> {
  const s = await call<SessionInfo>('POST', '/api/session', { username, password });
  csrf = s.csrf_token;
  return s;
}

export async function signOut(): Promise<void> {
  try {
    await call('DELETE', '/api/session');
  } finally {
    csrf = null;
  }
}

export interface CommandAnswer {
  command_id: string;
  ok: boolean;
  error?: string;
}

/** A `cmd/box` command (the box logs it with who sent it); resolves with the box's answer, refusals included. */
export function command(body: Record<string, unknown>): Promise<CommandAnswer> {
  return call<CommandAnswer>('POST', '/api/commands', body);
}
