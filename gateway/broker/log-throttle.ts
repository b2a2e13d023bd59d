/**
 * A device stuck sending the same bad payload every second must not wear out the SD card with
 * one warning each (logging wears SD cards out). Per key (e.g. `rg1:not_json`), the first occurrence is
 * logged, then at most one per interval, carrying how many were suppressed in between.
 * Counters in the broker's stats still count every one.
 */
const MAX_KEYS = 1024;

export class LogThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly intervalMs: number, private readonly now: () => number) {}

  /** `null`: stay quiet. Otherwise log, mentioning `suppressed` if above 0. */
  take(key: string): { suppressed: number } | null {
    const now = this.now();
    const e = this.last.get(key);
    if (e && now - e.at < this.intervalMs) {
      e.suppressed++;
      return null;
    }
    const suppressed = e?.suppressed ?? 0;
    this.last.delete(key);
    this.last.set(key, { at: now, suppressed: 0 });
    while (this.last.size > MAX_KEYS) this.last.delete(this.last.keys().next().value!);
    return { suppressed };
  }
}
