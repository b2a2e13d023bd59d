/**
 * What the data commands (backup, export, restore) share: their I/O, usage errors, and where
 * the log is — the config's `store.path` (the same file the box opens) or `--db PATH`.
 */
import { resolve } from 'node:path';
import type { SiteConfig } from '../config/types.ts';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Raw output without a newline (an export's stream); may ask the caller to wait (a full pipe). */
  write?: (s: string) => void | Promise<void>;
}

/** A bad argument: the CLI prints its message and the usage, exit 2. */
export class UsageError extends Error {
  readonly code = 'usage';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface LogPlace {
  path: string;
  site: string;
  utcOffset: string;
  config: SiteConfig | null;
}

/** The log named by `--config` (its store.path, site and offset) or `--db` (site from `--site`, default `unknown`). */
export async function logPathOf(values: { config?: string; db?: string; site?: string }, io: Io): Promise<LogPlace | null> {
  if (values.config) {
    const { checkConfigFile, problemLines } = await import('../config/load.ts');
    let checked: ReturnType<typeof checkConfigFile>;
    try {
      checked = checkConfigFile(values.config);
    } catch (err) {
      io.err(`${values.config}: cannot read: ${(err as Error).message}`);
      return null;
    }
    if (!checked.config) {
      for (const l of problemLines(values.config, checked.problems)) io.err(l);
      return null;
    }
    const c = checked.config;
    return { path: resolve(values.db ?? c.store.path), site: c.site.id, utcOffset: c.site.utcOffset, config: c };
  }
  if (values.db) return { path: resolve(values.db), site: values.site ?? 'unknown', utcOffset: '+08:00', config: null };
  throw new UsageError('give --config SITE.yaml (or --db PATH)');
}
