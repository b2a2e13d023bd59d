/**
 * For work that must not delay a siren command: what a step publishes reaches the relay's
 * socket in aedes' deliverQoS, a `setImmediate` that aedes schedules from a microtask after the
 * step returns. An immediate scheduled during the step would run before it; two hops run in
 * the next turn of the event loop, after the command was written. The publisher's outbox and
 * the engine runner's transition log lines wait this way.
 */
export function afterCommands(fn: () => void): void {
  setImmediate(() => setImmediate(fn));
}
