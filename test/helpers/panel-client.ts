/** A panel API client over real HTTP (Node's fetch), keeping the session cookie and the CSRF token like a browser page would. */
import { pw } from './box-site.ts';

export interface PanelClient {
  cookie: string | null;
  csrf: string | null;
  /** The last sign-in's Set-Cookie header, as sent. */
  setCookie: string | null;
  signIn(user: string, password?: string): Promise<Response>;
  req(method: string, path: string, body?: unknown, o?: { csrf?: boolean; headers?: Record<string, string> }): Promise<Response>;
}

export function panelClient(base: string): PanelClient {
  const c: PanelClient = {
    cookie: null,
    csrf: null,
    setCookie: null,
    async signIn(user, password = pw(user)) {
      const r = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
      if (r.ok) {
        c.setCookie = r.headers.get('set-cookie');
        c.cookie = c.setCookie!.split(';')[0]!;
        c.csrf = ((await r.clone().json()) as { csrf_token: string }).csrf_token;
      }
      return r;
    },
    async req(method, path, body, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (c.cookie) headers.cookie = c.cookie;
      if (c.csrf && o.csrf !== false) headers['x-csrf-token'] = c.csrf;
      if (body !== undefined) headers['content-type'] = 'application/json';
      return fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    },
  };
  return c;
}
