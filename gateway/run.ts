/**
 * `shaobing start` and `shaobing demo`: run until SIGINT/SIGTERM, then stop cleanly.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startBox } from './box.ts';
import { loadConfig, ConfigError } from './config/load.ts';
import { startDemo } from './demo.ts';

type Io = { out: (s: string) => void; err: (s: string) => void };

export async function runBox(command: 'start' | 'demo', args: string[], io: Io): Promise<number> {
  const log = pino({ name: 'shaobing' });
  let stop: () => Promise<void>;
  if (command === 'demo') {
    const demo = await startDemo({ log });
    stop = demo.stop;
  } else {
    const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
    if (!values.config) {
      io.err('usage: shaobing start --config SITE.yaml');
      return 2;
    }
    try {
      const box = await startBox({ config: loadConfig(values.config), log });
      stop = box.stop;
    } catch (e) {
      if (e instanceof ConfigError) {
        io.err(e.message);
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
