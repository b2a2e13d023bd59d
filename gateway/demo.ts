/**
 * `shaobing demo` (npm start): the demo site and scenario through the real engine and planner,
 * one scenario minute every half second, logged as pino JSON lines. Runs until SIGINT/SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadConfig } from './config/load.ts';
import { createCore, step, type CoreOutput } from './core.ts';
import { demoReadings } from '../simulators/scenarios/demo-storm.ts';
import { wallTime } from './wire.ts';

const SITE = fileURLToPath(new URL('../simulators/demo-site.yaml', import.meta.url));
const STEP_MS = 500;

export async function runDemo(_io: unknown, stepMs = STEP_MS, minutes = Number.POSITIVE_INFINITY): Promise<number> {
  const log = pino({ name: 'shaobing' });
  const config = loadConfig(SITE);
  log.info({ site: config.site.id, sensors: config.sensors.map((s) => s.id), zones: config.zones.map((z) => z.id) }, 'demo site loaded');
  const start = Date.now();
  const core = createCore(config, start);
  const show = (out: CoreOutput): void => {
    for (const t of out.transitions) log.warn({ alert: t.alert, transition: t.transition, level: t.level, rule: t.rule, values: t.values, text_en: t.textEn }, t.textZh);
    for (const e of out.effects) log.info({ effect: e }, `effect ${e.type}`);
    for (const n of out.notes) log.warn({ note: n }, 'planner note');
  };
  let minute = 0;
  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  while (minute < minutes) {
    const now = start + minute * 60_000;
    show(step(core, { type: 'tick' }, now));
    for (const r of demoReadings(minute)) show(step(core, { type: 'reading', reading: { ...r, at: now, quality: 'good' } }, now));
    if (minute % 10 === 0) log.info({ scenario_minute: minute, scenario_time: wallTime(now, config.site.utcOffset) }, 'scenario');
    minute++;
    const tick = new Promise<'tick'>((r) => setTimeout(() => r('tick'), stepMs));
    if ((await Promise.race([tick, stop.then(() => 'stop' as const)])) === 'stop') break;
  }
  log.info('demo stopped');
  return 0;
}
