/** GET /api/state and GET /api/live (live.ts), for any signed-in role. */
import type { FastifyInstance } from 'fastify';
import { requireSession } from './access.ts';
import type { LiveFeed } from './live.ts';
import type { Sessions } from './sessions.ts';

export function stateRoutes(app: FastifyInstance, sessions: Sessions, state: (by: string) => Promise<Record<string, unknown>>, live: LiveFeed): void {
  app.get('/api/state', { preHandler: requireSession(sessions) }, async (req) => state(req.session!.username));

  app.get('/api/live', { preHandler: requireSession(sessions) }, async (req, reply) => {
    const s = req.session!;
    // HEAD (Fastify answers it with this handler): the headers, no stream. A stream opened for a
    // HEAD request never flushes its headers, and its client would wait and be held forever.
    if (req.method === 'HEAD') return reply.type('text/event-stream; charset=utf-8').header('cache-control', 'no-store').send();
    reply.hijack();
    await live.add(reply.raw, s.token, s.username);
  });
}
