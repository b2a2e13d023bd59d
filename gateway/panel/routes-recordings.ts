/**
 * Recorded announcements from the panel (issue 18): `GET /api/recordings` lists which broadcast
 * templates have one; `PUT /api/recordings/<template>` (officer, session + CSRF) takes a WAV as
 * the request body and stores it with the very check-and-store of `shaobing audio add`
 * (gateway/recordings/add.ts `storeStaged`: WAV only, ≤ 5 min, not silent; atomic, the one
 * before kept as `<template>.previous.wav`). The speakers play it from the next broadcast on
 * (drivers/speaker/template-recording.ts, recording.ts).
 *
 * The body is streamed to a file beside where it will be stored, never held in memory (the
 * box's budget is 120 MB RSS), and refused with 413 past MAX_UPLOAD_BYTES. Who may upload is
 * checked in `onRequest`, before a byte of the body is read. A stored recording is a
 * `recording` event with who (`by`, `role`, `via: panel`); a refusal is in the box log.
 */
import { createWriteStream, rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { checkTemplate, configHint, describeWav, MAX_RECORDING_S, RecordingError, stagingPath, storeStaged } from '../recordings/add.ts';
import { listRecordings } from '../recordings/list.ts';
import { record, type EventSink } from '../shell/record.ts';
import { wallTime } from '../wire.ts';
import { requireSession } from './access.ts';
import { HttpError } from './errors.ts';
import type { Sessions } from './sessions.ts';
import type { BoxContext } from './state-types.ts';

/**
 * The largest upload: 5 minutes of 48 kHz stereo 32-bit samples (115.2 MB), and 1 MB of other
 * chunks. `audio add` takes up to 192 kHz and 8 channels (3.7 GB for 5 min of 64-bit float),
 * which no phone or recorder makes for an announcement and no SD card should take over the
 * LAN; a bigger file is refused with 413 and told to save it at 48 kHz stereo or less.
 */
export const MAX_UPLOAD_BYTES = MAX_RECORDING_S * 48_000 * 2 * 4 + 1024 * 1024;

class TooLarge extends Error {
  readonly code = 'too_large';
}

/** Counts the bytes going by and fails past `limit`. */
async function* capped(source: Readable, limit: number): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of source) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new TooLarge();
    yield chunk as Buffer;
  }
}

const tooLarge = (): HttpError =>
  new HttpError(413, `body: too large; a recording may be at most ${Math.round(MAX_UPLOAD_BYTES / 1e6)} MB (5 min of 48 kHz stereo); save it as mono, or at 48 kHz or less`);

export function recordingRoutes(app: FastifyInstance, ctx: BoxContext, sink: EventSink, sessions: Sessions): void {
  const wall = (ms: number): string => wallTime(ms, ctx.config.site.utcOffset);

  app.get('/api/recordings', { preHandler: requireSession(sessions) }, async () => ({
    max_s: MAX_RECORDING_S,
    max_bytes: MAX_UPLOAD_BYTES,
    recordings: listRecordings(ctx.config).map((r) => ({
      template: r.template,
      stored: r.file !== null,
      file: r.file,
      duration_s: r.durationS,
      size_bytes: r.sizeBytes,
      stored_at: r.storedAtMs === null ? null : wall(r.storedAtMs),
      plays: r.plays,
      stored_plays: r.storedPlays,
      problem: r.problem,
    })),
  }));

  // Its own context: the body is the WAV itself, whatever the content type says (the check
  // reads the bytes, not the label); no JSON parsing and no 64 KB limit here.
  void app.register(async (sub) => {
    sub.removeAllContentTypeParsers();
    sub.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    sub.put<{ Params: { template: string } }>('/api/recordings/:template', { onRequest: requireSession(sessions, ['officer']) }, async (req, reply: FastifyReply) => {
      const s = req.session!;
      const name = req.params.template;
      // Refused before the body is read: close the connection rather than read what is not wanted.
      const early = (e: HttpError): never => {
        reply.header('connection', 'close');
        throw e;
      };
      try {
        checkTemplate(ctx.config, name);
      } catch (err) {
        early(new HttpError(400, `params.template: ${(err as Error).message}`, { code: 'unknown_template' }));
      }
      const length = Number(req.headers['content-length']);
      if (Number.isFinite(length) && length > MAX_UPLOAD_BYTES) early(tooLarge());
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') early(new HttpError(400, 'body: send the WAV file as the request body'));
      const given = req.headers['x-file-name'];
      let shownAs = 'FILE';
      try {
        if (typeof given === 'string' && given) shownAs = basename(decodeURIComponent(given)).slice(0, 100);
      } catch {
        shownAs = 'FILE';
      }
      let staged: string;
      try {
        staged = stagingPath(ctx.config, name);
      } catch (err) {
        throw new HttpError(500, `the box could not store it: ${(err as Error).message}`);
      }
      try {
        await pipeline(body!, (src: Readable) => capped(src, MAX_UPLOAD_BYTES), createWriteStream(staged, { flags: 'wx' }));
      } catch (err) {
        rmSync(staged, { force: true });
        if (err instanceof TooLarge) early(tooLarge());
        if (req.raw.destroyed || (err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
          req.log.warn({ by: s.username, template: name }, 'recording upload broken off; nothing stored');
          throw new HttpError(400, 'body: the upload was broken off; nothing was stored');
        }
        throw new HttpError(500, `the box could not store it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      let stored: ReturnType<typeof storeStaged>;
      try {
        stored = storeStaged(ctx.config, name, staged, shownAs);
      } catch (err) {
        if (!(err instanceof RecordingError)) throw err;
        req.log.warn({ by: s.username, role: s.role, template: name, code: err.code, reason: err.message }, `recording for ${name} refused`);
        if (err.code === 'cannot_store') throw new HttpError(500, `the box could not store it: ${err.message}`, { code: err.code });
        throw new HttpError(400, `body: ${err.message}`, { code: err.code });
      }
      const format = describeWav(stored.info);
      const hint = configHint(ctx.config, name, stored.path);
      const payload = {
        action: 'stored',
        template: name,
        by: s.username,
        role: s.role,
        via: 'panel',
        file: stored.path,
        previous: stored.previous,
        duration_s: Math.round(stored.info.durationS * 10) / 10,
        size_bytes: stored.info.fileBytes,
        format,
        plays: hint === null,
      };
      record(ctx, sink, 'recording', payload);
      req.log.info(payload, `recording for ${name} stored by ${s.username}: ${format}`);
      return reply.code(200).send({ ...payload, config_hint: hint });
    });
  });
}
