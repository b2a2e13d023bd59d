/** GET /api/state and GET /api/live (live.ts), for any signed-in role. */
import type { FastifyInstance } from 'fastify';
import { requireSession } from './access.ts';
import type { LiveFeed } from './live.ts';
import type { Sessions } from './sessions.ts';

export function stateRoutes(app: FastifyInstance, sessions: Sessions, state: (by: string) => Promise<Record<string, unknown>>, live: LiveFeed): void {
  app.get('/api/state', { preHandler: requireSession(sessions) }, async (req) => state(req.session!.username));

  app.get('/api/live', { preHandler: requireSession(sessions) }, async (req, reply) => {
    const s = req.session!;
    reply.hijack();
    await live.add(reply.raw, s.token, s.username);
  });
}
