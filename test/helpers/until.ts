/** Polls `get` until it returns something truthy, or rejects naming `what` after `ms`. */
export async function until<T>(what: string, get: () => T | undefined | false | null, ms = 20_000, everyMs = 25): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
