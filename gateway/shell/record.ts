/**
 * The one way modules write to the event log: append (written before it returns: it survives
 * kill -9; the store syncs it to the disk right behind, off the main thread), then tell the bus
 * with the seq. Whoever acts on an event does so after this returns.
 */
import type { BoxContext } from './module.ts';

/** What the shell needs of the store; EventStore implements it, tests may pass a fake. */
export interface EventSink {
  /** Events, written together (one commit), seqs in order; with the core's snapshot after them, if given. */
  appendMany(events: readonly { type: EventTypeName; payload: unknown }[], snapshot?: { version: number; body: string } | null): number[];
  addReading(r: { sensor: string; value: number | null; quality: string; atWall: number }): void;
  /** The core's snapshot on its own, after the events it follows were written (replaces the one kept). */
  saveSnapshot(snapshot: { version: number; body: string }): void;
}

export type EventTypeName = 'transition' | 'effect' | 'command' | 'fault' | 'config' | 'start' | 'stop' | 'observation' | 'note' | 'storage' | 'threshold' | 'escalation' | 'report' | 'session' | 'panel_hw';

export function record(ctx: Pick<BoxContext, 'bus' | 'clock'>, sink: EventSink, type: EventTypeName, payload: unknown): number {
  return recordAll(ctx, sink, [{ type, payload }])[0]!;
}

/**
 * Like `record`, for everything one step produced: one commit; then `act` runs (sirens first),
 * and only then is each event announced as `logged` (publishing the log may wait; a siren not).
 */
export function recordAll(
  ctx: Pick<BoxContext, 'bus' | 'clock'>,
  sink: EventSink,
  events: readonly { type: EventTypeName; payload: unknown }[],
  act: () => void = () => undefined,
  snapshot: { version: number; body: string } | null = null,
): number[] {
  if (events.length === 0) {
    act();
    return [];
  }
  const seqs = sink.appendMany(events, snapshot);
  const atWall = ctx.clock.wall();
  act();
  events.forEach((e, i) => ctx.bus.emit('logged', { seq: seqs[i]!, type: e.type, atWall, payload: e.payload }));
  return seqs;
}
