/**
 * `shaobing doctor --config SITE.yaml [--json] [--bus-reads auto|always] [--wear-budget-mb-h N]
 * [--min-free-mb N] [--min-days N] [--audio-device NAME]`: prints one line per check (report.ts)
 * and a summary, or with `--json` one JSON document; exits 0 when every check passed, 1 when
 * any failed, 3 when none failed but some could not be checked, 2 for a usage error.
 */
import { parseArgs } from 'node:util';
import { runDoctor, type DoctorOptions } from './doctor.ts';
import { exitCode, line, summary } from './report.ts';

type Io = { out: (s: string) => void; err: (s: string) => void };

export const DOCTOR_USAGE = 'usage: shaobing doctor --config SITE.yaml [--json] [--bus-reads auto|always] [--wear-budget-mb-h N] [--min-free-mb N] [--min-days N] [--audio-device NAME]';

export async function doctorCommand(args: string[], io: Io, extra: DoctorOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      json: { type: 'boolean' },
      'bus-reads': { type: 'string' },
      'wear-budget-mb-h': { type: 'string' },
      'min-free-mb': { type: 'string' },
      'min-days': { type: 'string' },
      'audio-device': { type: 'string' },
    },
  });
  const num = (k: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new TypeError(`--${k}: must be a number ≥ 0, not '${v}'`);
    return n;
  };
  if (!values.config || (values['bus-reads'] !== undefined && values['bus-reads'] !== 'auto' && values['bus-reads'] !== 'always')) {
    io.err(DOCTOR_USAGE);
    return 2;
  }
  const o: DoctorOptions = {
    ...extra,
    busReads: values['bus-reads'] as 'auto' | 'always' | undefined,
    wearBudgetMbPerH: num('wear-budget-mb-h', values['wear-budget-mb-h']),
    minFreeMb: num('min-free-mb', values['min-free-mb']),
    minDays: num('min-days', values['min-days']),
    audioDevice: values['audio-device'] ?? extra.audioDevice,
  };
  for (const k of Object.keys(o) as (keyof DoctorOptions)[]) if (o[k] === undefined) delete o[k];
  const { results, configProblems } = await runDoctor(values.config, o);
  const code = exitCode(results);
  if (values.json) {
    io.out(JSON.stringify({ exit_code: code, checks: results, config_problems: configProblems }, null, 2));
    return code;
  }
  for (const r of results) {
    io.out(line(r));
    if (r.id === 'config') for (const p of configProblems) io.out(`    ${p}`);
  }
  io.out(summary(results));
  return code;
}
