/**
 * The duty officer's page at `/` (issue 17): the files `scripts/build-panel.mjs` wrote to
 * build/panel/ (index.html, content-hashed script and style sheet, each also as .gz and .br),
 * served by @fastify/static with the precompressed file picked by Accept-Encoding; and
 * GET /api/page-config, what the page needs of the site config that the state does not carry
 * (the siren signals by name, the broadcast repeat).
 *
 * Headers: a Content-Security-Policy allowing only this box (no inline script, no other
 * origin: the page works with no network but the LAN), no framing, no referrer; index.html is
 * revalidated on every load (a rebuilt page shows at the next reload), the hashed files are
 * immutable. A box whose page was not built still runs: `/` answers 503 in both languages and
 * the box log says how to build it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { requireSession } from './access.ts';
import type { Sessions } from './sessions.ts';
import type { BoxContext } from './state-types.ts';

/** build/panel/ from the sources (gateway/panel/) and from the compiled box (dist/gateway/panel/). */
const CANDIDATES = ['../../build/panel/', '../../../build/panel/'];

export function findPageDir(): string | null {
  for (const rel of CANDIDATES) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return null;
}

export const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function pageHeaders(reply: FastifyReply, file: string): void {
  reply.header('content-security-policy', PAGE_CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
  // Hashed names (esbuild's [hash]) change with their content; index.html and build.json do not.
  reply.header('cache-control', /-[A-Z0-9]{8}\.(js|css)(\.gz|\.br)?$/.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>哨兵</title><h1>值班面板页面尚未构建 · The panel page is not built</h1><p>在哨兵盒上运行 <code>npm run build-panel</code>(需要开发依赖),然后刷新。报警功能不受影响。</p><p>Run <code>npm run build-panel</code> on the box (needs the dev dependencies), then reload. The alarm path is not affected.</p>`;

export async function pageRoutes(app: FastifyInstance, ctx: BoxContext, sessions: Sessions, log: Logger, dir = findPageDir()): Promise<void> {
  app.get('/api/page-config', { preHandler: requireSession(sessions) }, async () => {
    const a = ctx.config.actions;
    return {
      patterns: Object.entries(a.patterns).map(([id, p]) => ({ id, name_zh: p.nameZh, name_en: p.nameEn, steps: p.steps, total_s: p.steps.reduce((n, s) => n + s, 0) })),
      broadcast_repeat: a.broadcastRepeat,
      // payloads.ts: a broadcast's repeat is 1–10.
      broadcast_repeat_max: 10,
    };
  });
  if (!dir) {
    log.error({ looked_in: CANDIDATES }, 'panel page not built: / answers 503 (run npm run build-panel where the dev dependencies are installed)');
    app.get('/', async (_req, reply) => reply.code(503).type('text/html; charset=utf-8').header('retry-after', '60').send(NOT_BUILT));
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: false,
    wildcard: true,
    preCompressed: true,
    dotfiles: 'ignore',
    cacheControl: false,
    setHeaders: (reply, file) => pageHeaders(reply, file),
  });
  app.get('/', (_req, reply) => reply.sendFile('index.html'));
  log.info({ dir }, 'panel page served');
}
