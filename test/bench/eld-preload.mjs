// Preloaded into the box (`node --import`) by the soak bench: at each SIGUSR2 (the bench sends
// one at every slice boundary) it appends one JSON line to $SB_ELD_FILE with the main thread's
// event-loop delay since the previous one (p50, p99, max in ms; perf_hooks.monitorEventLoopDelay
// sampling every 1 ms, which it counts in: the 1 ms is taken off, so an idle loop says about 0)
// and starts counting again. Worker threads (the checkpointer, the config
// reader) load it too and do nothing. The box itself does not use SIGUSR2.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

const file = process.env.SB_ELD_FILE;
if (isMainThread && file) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const ms = (ns) => Math.max(0, Math.round((ns - 1e6) / 1e4) / 100);
  process.on('SIGUSR2', () => {
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), p50_ms: ms(h.percentile(50)), p99_ms: ms(h.percentile(99)), max_ms: ms(h.max) })}\n`);
    h.reset();
  });
}
