/**
 * mqtt-packet traces every parse step through the `debug` package, about 46 calls per packet.
 * A disabled `debug` logger returns at once, but only after its rest parameter has built an
 * array of the arguments: 17 % of everything the box allocated under 1,000 sensors × 1 Hz
 * (sampled heap profile, measured), and so a sixth of the scavenges that pause the alarm path.
 *
 * Imported before aedes and mqtt-packet (first import of broker.ts), this swaps the factory in
 * the module cache of the `debug` copy mqtt-packet resolves: a namespace that the environment's
 * DEBUG enables at start gets the real logger, any other one a no-op function that allocates
 * nothing. `DEBUG=mqtt-packet:*` still works; switching a namespace on later at run time
 * (`debug.enable()`) does not reach loggers made while it was off.
 */
import { createRequire } from 'node:module';

interface DebugFactory {
  (namespace: string): unknown;
  enabled(namespace: string): boolean;
}

function noop(): void {}
const quiet = Object.assign(noop, { enabled: false, namespace: '', log: noop, destroy: () => true, extend: (): typeof noop => quiet });

/** Replaces the `debug` factory that `fromPackage` requires; returns false if it cannot find it. */
export function quietDisabledDebug(fromPackage = 'mqtt-packet'): boolean {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = createRequire(require.resolve(fromPackage)).resolve('debug');
  } catch {
    return false;
  }
  const real = require(path) as DebugFactory;
  if ((real as { quiet?: boolean }).quiet) return true;
  const factory = Object.assign((namespace: string) => (real.enabled(namespace) ? real(namespace) : quiet), real, { quiet: true });
  const cached = require.cache[path];
  if (!cached) return false;
  cached.exports = factory;
  return true;
}

quietDisabledDebug();
