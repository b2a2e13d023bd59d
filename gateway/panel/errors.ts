/**
 * Errors in the project's form: `{"error": "path: message"}`, with every problem of a request
 * when the schema found several (`errors`). Paths name where the value was: `body.username`,
 * `querystring.hours`, `params.id`, like the config's `panel.port`.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/** An HTTP answer with a status, thrown by the routes (`throw new HttpError(403, '…')`). */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

function schemaProblem(context: string, v: { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }): string {
  const at = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const extra = v.keyword === 'additionalProperties' ? ` '${String(v.params.additionalProperty)}'` : v.keyword === 'enum' ? ` (${(v.params.allowedValues as unknown[]).join(', ')})` : '';
  return `${context}${at ? `.${at}` : ''}: ${v.message ?? v.keyword}${extra}`;
}

export function installErrors(app: FastifyInstance, log: Logger): void {
  app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message, ...err.extra });
    if (err.validation) {
      const errors = err.validation.map((v) => schemaProblem(err.validationContext ?? 'request', v as never));
      return reply.code(400).send({ error: errors[0], errors });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ error: `body: send application/json` });
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: 'body: too large' });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return reply.code(err.statusCode).send({ error: `body: ${err.message}` });
    log.error({ err, url: req.url, method: req.method }, 'panel request failed');
    return reply.code(500).send({ error: 'the box failed answering (see the box log)' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));
}
