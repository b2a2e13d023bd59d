/**
 * Plays a broadcast's parts to its sinks in real time. The parts are handed over in 100 ms
 * chunks, at most `LEAD_MS` ahead of the sound (like a sound card's buffer), whatever the sink:
 * a file gets its WAV at the speed it would be heard, aplay never holds more than half a second
 * we could not take back. So a stop is quick (kill aplay, close the file), a file sink behaves
 * in time like a loudspeaker (the amplifier relay, `done` and pre-emption all happen when they
 * would on a real one), and a part still being made (speech renders while the chime plays)
 * delays only itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { SpeakerError } from './errors.ts';
import { BYTES_PER_SECOND, bytesFor, durationS } from './pcm.ts';

/** One place the sound goes: aplay, a WAV file (sinks.ts). */
export interface Writer {
  readonly name: string;
  /** A failure of a required writer fails the broadcast; the demo's monitor is not required. */
  readonly required: boolean;
  /** Takes a chunk; resolves once taken (backpressure). Rejects if the writer has failed. */
  write(chunk: Buffer): Promise<void>;
  /** No more audio: resolves once all of it was played (aplay exited) or kept (file closed). */
  finish(): Promise<void>;
  /** Stop now. `heardBytes`: how much of what was written had been heard (a file keeps that). */
  abort(heardBytes: number): Promise<void>;
  /** `cb` is called once if the writer fails by itself (aplay exits with an error). */
  onFail(cb: (err: SpeakerError) => void): void;
}

export const CHUNK_MS = 100;
export const LEAD_MS = 500;
/** After the last chunk, a player gets this long to finish (aplay draining its buffer). */
const FINISH_MS = 5000;

export interface PlayResult {
  /** True when stopped (pre-empted, stopped by an officer) before the end. */
  stopped: boolean;
  /** Seconds of sound handed to the sinks. */
  playedS: number;
}

export class Playback {
  private readonly abort = new AbortController();
  private failure: SpeakerError | null = null;
  private startedAt: number | null = null;
  private startWaiters: ((at: number) => void)[] = [];
  private playhead = 0;
  private written = 0;
  private live: Writer[];
  private stopping: Promise<void> | null = null;

  constructor(writers: Writer[], private readonly onWriterNote: (w: Writer, err: SpeakerError) => void = () => undefined) {
    this.live = [...writers];
    for (const w of writers) w.onFail((err) => this.writerFailed(w, err));
  }

  /** `performance.now()` when the first sound was handed to the sinks. */
  started(): Promise<number> {
    if (this.startedAt !== null) return Promise.resolve(this.startedAt);
    return new Promise((r) => this.startWaiters.push(r));
  }

  /** Plays the parts in order; rejects with the first required writer's or part's error. */
  async play(parts: Promise<Buffer>[]): Promise<PlayResult> {
    // Parts still being made may fail before their turn: observed here, raised when reached.
    for (const p of parts) p.catch(() => undefined);
    const signal = this.abort.signal;
    const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    aborted.catch(() => undefined);
    this.playhead = performance.now();
    const chunk = bytesFor(CHUNK_MS);
    try {
      for (const part of parts) {
        const pcm = await Promise.race([part, aborted]);
        for (let off = 0; off < pcm.length; off += chunk) {
          const ahead = this.playhead - performance.now();
          if (ahead > LEAD_MS) await sleep(ahead - LEAD_MS, undefined, { signal });
          if (signal.aborted) return this.result();
          // Behind (a part came late): the speaker was silent meanwhile; the sound goes on from now.
          this.playhead = Math.max(this.playhead, performance.now());
          const piece = pcm.subarray(off, off + chunk);
          await Promise.race([Promise.all(this.live.map((w) => this.writeTo(w, piece))), aborted]);
          this.markStarted();
          this.written += piece.length;
          this.playhead += (piece.length / BYTES_PER_SECOND) * 1000;
        }
      }
      const left = this.playhead - performance.now();
      if (left > 0) await sleep(left, undefined, { signal });
      await Promise.race([this.finishAll(), aborted]);
      return this.result();
    } catch (err) {
      if (this.failure) throw this.failure;
      if (signal.aborted) return this.result();
      // A part that could not be made (TTS failed): what was already handed over stops now.
      await this.halt();
      throw err;
    }
  }

  /** Stops at once (aplay killed, the file closed at what was heard); resolves when they have. */
  stop(): Promise<void> {
    if (!this.abort.signal.aborted) this.abort.abort(new SpeakerError('playback_failed', 'stopped'));
    return this.halt();
  }

  private result(): PlayResult {
    if (this.failure) throw this.failure;
    return { stopped: this.abort.signal.aborted, playedS: durationS(this.written) };
  }

  private markStarted(): void {
    if (this.startedAt !== null) return;
    this.startedAt = performance.now();
    for (const r of this.startWaiters) r(this.startedAt);
    this.startWaiters = [];
  }

  private halt(): Promise<void> {
    this.stopping ??= (async () => {
      const unheard = Math.max(0, this.playhead - performance.now());
      const heard = Math.max(0, this.written - bytesFor(unheard));
      await Promise.all(this.live.map((w) => w.abort(heard).catch(() => undefined)));
    })();
    return this.stopping;
  }

  private async finishAll(): Promise<void> {
    await Promise.all(
      this.live.map(async (w) => {
        let timer: NodeJS.Timeout | undefined;
        const overrun = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new SpeakerError('playback_overrun', `${w.name} did not finish within ${FINISH_MS} ms of the end`)), FINISH_MS);
        });
        try {
          await Promise.race([w.finish(), overrun]);
        } catch (err) {
          await w.abort(this.written).catch(() => undefined);
          this.writerFailed(w, err instanceof SpeakerError ? err : new SpeakerError('playback_failed', String(err)));
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    if (this.failure) throw this.failure;
  }

  private async writeTo(w: Writer, piece: Buffer): Promise<void> {
    try {
      await w.write(piece);
    } catch (err) {
      this.writerFailed(w, err instanceof SpeakerError ? err : new SpeakerError('playback_failed', String(err)));
    }
  }

  /** A required writer's failure ends the broadcast; any other's only drops that writer. */
  private writerFailed(w: Writer, err: SpeakerError): void {
    if (!this.live.includes(w)) return;
    this.live = this.live.filter((x) => x !== w);
    if (!w.required) {
      this.onWriterNote(w, err);
      return;
    }
    this.failure ??= err;
    if (!this.abort.signal.aborted) this.abort.abort(err);
    void this.halt();
  }
}
