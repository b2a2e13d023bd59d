/**
 * Every route the panel registers, as Fastify registers it (its `onRoute` hook, added before
 * the first route): the security test walks this list (test/integration/panel-security.test.ts),
 * so a route added later cannot escape the session, CSRF and role rules unnoticed.
 */
import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  url: string;
}

/** Fills `into` (emptied first) with each route registered on `app` from now on. */
export function recordRoutes(app: FastifyInstance, into: RouteEntry[]): void {
  into.length = 0;
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) into.push({ method, url: r.url });
  });
}
