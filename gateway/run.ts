/**
 * `shaobing start` and `shaobing demo`: run until SIGINT/SIGTERM, then stop cleanly.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startBox } from './box.ts';
import { ConfigError, problemLines } from './config/errors.ts';
import { loadSiteIsolated } from './config/isolated.ts';

type Io = { out: (s: string) => void; err: (s: string) => void };

export async function runBox(command: 'start' | 'demo', args: string[], io: Io): Promise<number> {
  const log = pino({ name: 'shaobing' });
  let stop: () => Promise<void>;
  if (command === 'demo') {
    // The demo's simulators (an MQTT client per device, Modbus servers) load only for the demo.
    const { startDemo } = await import('./demo.ts');
    const demo = await startDemo({ log });
    stop = demo.stop;
  } else {
    const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
    if (!values.config) {
      io.err('usage: shaobing start --config SITE.yaml');
      return 2;
    }
    try {
      const { config, profiles } = await loadSiteIsolated(values.config);
      const box = await startBox({ config, profiles, log });
      stop = box.stop;
    } catch (e) {
      if (e instanceof ConfigError) {
        // The same lines as `check-config` gives for this file.
        for (const line of problemLines(values.config, e.problems)) io.err(line);
        return 1;
      }
      throw e;
    }
  }
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.info({ signal }, 'stopping');
  await stop();
  log.info('stopped');
  return 0;
}
