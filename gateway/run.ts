/**
 * `shaobing start` and `shaobing demo`: run until SIGINT, SIGTERM or SIGHUP, then stop cleanly.
 *
 * SIGHUP stops, it does not reload. Node's default for SIGHUP is to die at once — no `stop`
 * event, no flush, sirens left as they were — and a terminal that closes under `npm start`
 * sends it. A live reload would swap sensors, rules and accounts under active alerts; a restart
 * does the same safely, because the core snapshot (core-snapshot.ts) restores what is active,
 * acknowledged and silenced. So to reload a changed config: `systemctl restart shaobing` (the
 * unit's Restart=always also starts the box again after a SIGHUP stop).
 *
 * The handlers stay for the whole stop: a second signal while stopping is logged and ignored
 * (every step of the stop has its own deadline), so a stray SIGHUP cannot cut the flush short.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startBox } from './box.ts';
import { ConfigError, problemLines } from './config/errors.ts';
import { loadSiteIsolated } from './config/isolated.ts';
import { takeSystemdEnv } from './shell/sd-notify.ts';
import { linkSystemd } from './shell/systemd.ts';

type Io = { out: (s: string) => void; err: (s: string) => void };

export async function runBox(command: 'start' | 'demo', args: string[], io: Io): Promise<number> {
  const log = pino({ name: 'shaobing' });
  // Under systemd (Type=notify): taken out of the environment before any child process starts.
  const systemd = takeSystemdEnv();
  // Listening from the first moment: a signal during a slow start stops the box once it is up.
  const signalled = firstSignal(log);
  let stop: (reason: string) => Promise<void>;
  if (command === 'demo') {
    // The demo's simulators (an MQTT client per device, Modbus servers) load only for the demo.
    const { startDemo } = await import('./demo.ts');
    const demo = await startDemo({ log });
    stop = (reason) => demo.stop(reason);
  } else {
    const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
    if (!values.config) {
      io.err('usage: shaobing start --config SITE.yaml');
      return 2;
    }
    try {
      const { config, profiles } = await loadSiteIsolated(values.config);
      const box = await startBox({ config, profiles, log });
      const link = linkSystemd({
        env: systemd,
        sources: { storeStallMs: () => box.store.syncStallMs(), lastTickAt: () => box.engine.lastTickAt() },
        mono: () => box.ctx.clock.mono(),
        log,
        status: `running: site ${config.site.id}, ${config.sensors.length} sensors, ${config.actuators.length} actuators`,
      });
      stop = (reason) => {
        link?.stopping();
        return box.stop(reason);
      };
    } catch (e) {
      if (e instanceof ConfigError) {
        // The same lines as `check-config` gives for this file.
        for (const line of problemLines(values.config, e.problems)) io.err(line);
        return 1;
      }
      throw e;
    }
  }
  const signal = await signalled;
  log.info({ signal }, 'stopping');
  await stop(signal);
  log.info({ signal }, 'stopped');
  return 0;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Resolves with the first stop signal; later ones are logged and ignored until the process exits. */
function firstSignal(log: { warn(o: object, msg: string): void }): Promise<string> {
  return new Promise((resolve) => {
    let first: string | null = null;
    for (const name of STOP_SIGNALS) {
      process.on(name, () => {
        if (first === null) {
          first = name;
          resolve(name);
        } else log.warn({ signal: name, stopping_on: first }, 'signal ignored: already stopping');
      });
    }
  });
}
