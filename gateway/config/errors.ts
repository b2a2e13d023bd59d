/**
 * A bad config, as an error with every problem in it. Kept apart from load.ts so the box can
 * report one without loading the YAML parser and schema compiler (see isolated.ts).
 */
import type { ConfigProblem } from './normalise.ts';

export class ConfigError extends Error {
  readonly code = 'E_CONFIG';
  constructor(readonly problems: ConfigProblem[], source: string) {
    super(`${source}: ${problems.length} config problem(s)\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.path || '(top)'}: ${p.message}`;
}

/** What `check-config` and `start` print for a bad file: one `FILE: path: message` line each. */
export function problemLines(file: string, problems: ConfigProblem[]): string[] {
  return problems.map((p) => `${file}: ${formatProblem(p)}`);
}
