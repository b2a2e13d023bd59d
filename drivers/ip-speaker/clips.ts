/**
 * Each broadcast's audio, rendered once (drivers/speaker/render.ts) into the IP speakers'
 * folder: two speakers given the same words, or the same warning again, share one file. A clip
 * is named by a digest of what it says, so its URL reveals nothing of the words.
 *
 * Rendering starts right after the first command for it goes out and is never awaited by the
 * command: the speaker gets its command at once and its fetch waits for the file
 * (audio-server.ts). At most `max` files are kept; the oldest that no live token can open goes.
 */
import { createHash } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterCommands } from '../../gateway/shell/after-commands.ts';
import type { BroadcastSpec } from '../speaker/render.ts';

/** Renders `b` as one WAV at `path` (render.ts `renderBroadcast`, with the site's audio config bound). */
export type RenderFn = (b: BroadcastSpec, path: string) => Promise<{ durationS: number }>;

export type ClipResult = { ok: true; durationS: number; bytes: number; renderMs: number } | { ok: false; code: string; message: string };

export interface Clip {
  id: string;
  path: string;
  /** Settles when the render is over, never rejects. */
  done: Promise<ClipResult>;
  /** The result once settled; null while rendering. */
  result: ClipResult | null;
}

export function clipId(b: BroadcastSpec): string {
  return createHash('sha256')
    .update(JSON.stringify([b.textZh, b.textEn ?? '', b.repeat, b.template ?? '']))
    .digest('hex')
    .slice(0, 32);
}

export class Clips {
  private readonly clips = new Map<string, Clip>();

  constructor(
    private readonly dir: string,
    private readonly render: RenderFn,
    private readonly onRendered: (clip: Clip, r: ClipResult) => void = () => undefined,
    private readonly max = 32,
  ) {}

  /** The clip for `b`, rendering it if it is new (or failed before: a TTS that failed once may work now). */
  get(b: BroadcastSpec): Clip {
    const id = clipId(b);
    const old = this.clips.get(id);
    if (old && (old.result === null || old.result.ok)) {
      // Most recently used last: the oldest is the first pruned.
      this.clips.delete(id);
      this.clips.set(id, old);
      return old;
    }
    const path = join(this.dir, `${id}.wav`);
    const t0 = performance.now();
    const clip: Clip = { id, path, result: null, done: null as unknown as Promise<ClipResult> };
    const spec: BroadcastSpec = { textZh: b.textZh, ...(b.textEn === undefined ? {} : { textEn: b.textEn }), repeat: b.repeat, ...(b.template === undefined ? {} : { template: b.template }) };
    // Not in this turn: starting espeak-ng (a process spawn, milliseconds in a large process) must
    // not delay the siren commands of the step that asked for the broadcast (after-commands.ts).
    clip.done = new Promise<void>((resolve) => afterCommands(resolve))
      .then(() => this.render(spec, path))
      .then(async (r): Promise<ClipResult> => ({ ok: true, durationS: r.durationS, bytes: (await stat(path)).size, renderMs: Math.round(performance.now() - t0) }))
      .catch((err: unknown): ClipResult => ({ ok: false, code: String((err as { code?: unknown }).code ?? 'render_failed'), message: (err as Error)?.message ?? String(err) }))
      .then((r) => {
        clip.result = r;
        this.onRendered(clip, r);
        return r;
      });
    this.clips.set(id, clip);
    return clip;
  }

  byId(id: string): Clip | undefined {
    return this.clips.get(id);
  }

  /** Deletes the oldest rendered clips beyond `max` that no live token opens. */
  async prune(inUse: (id: string) => boolean): Promise<void> {
    let over = this.clips.size - this.max;
    for (const [id, c] of this.clips) {
      if (over <= 0) break;
      if (c.result === null || inUse(id)) continue;
      this.clips.delete(id);
      over--;
      await rm(c.path, { force: true });
    }
  }

  get size(): number {
    return this.clips.size;
  }
}
