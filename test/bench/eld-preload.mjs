// Preloaded into the box (`node --import`) by the soak bench: at each SIGUSR2 (the bench sends
// one at every slice boundary) it appends one JSON line to $SB_ELD_FILE with the main thread's
// event-loop delay since the previous one (p50, p99, max in ms; perf_hooks.monitorEventLoopDelay
// sampling every 1 ms, which it counts in: the 1 ms is taken off, so an idle loop says about 0)
// and starts counting again. Every second whose worst delay passed 20 ms is also appended to
// $SB_ELD_FILE.stalls ({at, max_ms}), so the bench can say which fault it fell in. Worker threads
// (the checkpointer, the config reader) load it too and do nothing. The box does not use SIGUSR2.
// The same line carries the JS heap after a full collection (`heap_mb`: what is live, not what
// the collector has yet to free), `external_mb` and `array_buffers_mb`, so a rising RSS can be
// told apart: live objects kept (a leak) or native memory (SQLite's page cache, malloc). The
// collection is a pause of a few ms once a slice, right after the slice's figures are taken.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread } from 'node:worker_threads';

const file = process.env.SB_ELD_FILE;
if (isMainThread && file) {
  const ms = (ns) => Math.max(0, Math.round((ns - 1e6) / 1e4) / 100);
  const slice = monitorEventLoopDelay({ resolution: 1 });
  const second = monitorEventLoopDelay({ resolution: 1 });
  slice.enable();
  second.enable();
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const mb = (b) => Math.round(b / 1e5) / 10;
  process.on('SIGUSR2', () => {
    const delay = { p50_ms: ms(slice.percentile(50)), p99_ms: ms(slice.percentile(99)), max_ms: ms(slice.max) };
    gc();
    const m = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ at: Date.now(), ...delay, heap_mb: mb(m.heapUsed), external_mb: mb(m.external), array_buffers_mb: mb(m.arrayBuffers), rss_after_gc_mb: mb(m.rss) })}\n`);
    slice.reset();
  });
  setInterval(() => {
    if (ms(second.max) > 20) appendFileSync(`${file}.stalls`, `${JSON.stringify({ at: Date.now(), max_ms: ms(second.max) })}\n`);
    second.reset();
  }, 1000).unref();
}
