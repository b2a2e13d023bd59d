/**
 * `shaobing replay`: runs the engine and planner over recorded readings and prints one JSON
 * line per alert transition and per effect, in time order.
 *
 * Rows are expected in time order (as a logger writes them). The replay clock is the newest
 * time seen; a row older than it is still fed, and the engine drops it as a late reading if
 * its sensor has already reported something newer. The clock ticks once per new second of
 * data time, as the box ticks once a second.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CapExporter } from '../cap/cap-xml.ts';
import type { SiteConfig } from '../config/types.ts';
import { createCore, step, type CoreOutput } from '../core.ts';
import type { Reading } from '../engine/types.ts';
import { toWire, wallTime } from '../wire.ts';
import type { RowBatch } from './csv-parser.ts';
import { readBatches } from './csv-source.ts';

export interface ReplayOptions {
  config: SiteConfig;
  readings: string;
  capDir?: string;
  /** Also print observations (counter resets, wraps, dropped duplicates). */
  observations?: boolean;
  write: (line: string) => void;
  error: (message: string) => void;
}

export interface ReplaySummary {
  rows: number;
  badRows: number;
  transitions: number;
  effects: number;
  capFiles: number;
}

export async function replay(o: ReplayOptions): Promise<ReplaySummary> {
  const { config } = o;
  const ids = config.sensors.map((s) => s.id);
  const offset = config.site.utcOffset;
  const summary: ReplaySummary = { rows: 0, badRows: 0, transitions: 0, effects: 0, capFiles: 0 };
  const cap = o.capDir ? new CapExporter(config) : null;
  if (o.capDir) mkdirSync(o.capDir, { recursive: true });
  let core: ReturnType<typeof createCore> | null = null;
  let clock = Number.NEGATIVE_INFINITY;
  let lastTickSecond = Number.NEGATIVE_INFINITY;
  const reading: Reading = { sensor: '', value: null, at: 0, quality: 'good' };

  const print = (out: CoreOutput): void => {
    for (const t of out.transitions) {
      summary.transitions++;
      const { at, sensors, ...rest } = t;
      o.write(JSON.stringify({ at: wallTime(at, offset), type: 'alert', sensor: sensors[0], ...toWire({ sensors, ...rest }) }));
      if (cap) {
        const msg = cap.export(t);
        writeFileSync(join(o.capDir!, `${msg.identifier}.xml`), msg.xml);
        summary.capFiles++;
      }
    }
    for (const e of out.effects) {
      summary.effects++;
      const { at, type, ...rest } = e;
      o.write(JSON.stringify({ at: wallTime(at, offset), type: 'effect', effect: type, ...toWire(rest) }));
    }
    for (const n of out.notes) o.write(JSON.stringify({ at: wallTime(n.at, offset), type: 'note', note: n.note, detail: n.detail }));
    if (o.observations) {
      for (const b of out.observations) o.write(JSON.stringify({ at: wallTime(b.at, offset), type: 'observation', sensor: b.sensor, what: b.what, detail: b.detail }));
    }
  };

  const onBatch = (b: RowBatch): void => {
    for (const e of b.errors) o.error(`${o.readings}:line ${e.line}: ${e.message}`);
    summary.badRows += b.errors.length;
    summary.rows += b.n;
    for (let i = 0; i < b.n; i++) {
      const at = b.at[i]!;
      core ??= createCore(config, at);
      if (at > clock) {
        clock = at;
        const second = Math.floor(clock / 1000);
        if (second > lastTickSecond) {
          lastTickSecond = second;
          print(step(core, { type: 'tick' }, clock));
        }
      }
      const value = b.value[i]!;
      reading.sensor = ids[b.sensor[i]!]!;
      reading.value = Number.isNaN(value) ? null : value;
      reading.at = at;
      reading.quality = reading.value === null ? 'missing' : 'good';
      print(step(core, { type: 'reading', reading }, clock));
    }
  };

  await readBatches(o.readings, ids, config.sensors.map((s) => s.kind === 'smoke'), onBatch);
  return summary;
}
