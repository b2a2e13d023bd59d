/**
 * Reads a site config (YAML or JSON), validates it against the schema with every error at once,
 * and returns the effective config or the list of `path: message (line N)` problems.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { siteConfigSchema } from './schema.ts';
import { normalise, type ConfigProblem } from './normalise.ts';
import type { SiteConfig } from './types.ts';
import { ConfigError } from './errors.ts';

export { ConfigError, formatProblem } from './errors.ts';

/** The config file version this gateway writes and reads. Older versions get migrated here. */
export const CONFIG_VERSION = 1;

const ajv = new Ajv({ allErrors: true, discriminator: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validate = ajv.compile(siteConfigSchema);

/** `/sensors/1/stages/warning` → `sensors[1].stages.warning` */
function toPath(segments: string[]): string {
  return segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

function segmentsOf(pointer: string): string[] {
  return pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function explain(e: ErrorObject): { segments: string[]; message: string } {
  const segments = segmentsOf(e.instancePath);
  const p = e.params as Record<string, any>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { segments: [...segments, p.additionalProperty], message: 'unknown key' };
    case 'required':
      return { segments: [...segments, p.missingProperty], message: 'is required' };
    case 'enum':
      return { segments, message: `must be one of ${p.allowedValues.join(', ')}` };
    case 'discriminator':
      return { segments: [...segments, 'kind'], message: 'must be one of rain, water_level, smoke' };
    case 'pattern':
      return { segments, message: segments.at(-1) === 'utc_offset' ? 'must look like +08:00' : `must match ${p.pattern}` };
    default:
      return { segments, message: e.message ?? e.keyword };
  }
}

function lineOf(doc: Document, lines: LineCounter, segments: string[]): number | null {
  for (let n = segments.length; n >= 0; n--) {
    const path = segments.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const node = n === 0 ? doc.contents : doc.getIn(path, true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return null;
}

function withLine(problem: ConfigProblem, doc: Document, lines: LineCounter): ConfigProblem {
  const segments = problem.path.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean);
  const line = lineOf(doc, lines, segments);
  return line === null ? problem : { ...problem, message: `${problem.message} (line ${line})` };
}

/** Parses and validates config text. Never throws for bad input: problems come back as data. */
export function parseConfig(text: string): { config: SiteConfig | null; problems: ConfigProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    return {
      config: null,
      problems: doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0]} (line ${lines.linePos(e.pos[0]).line})` })),
    };
  }
  const raw = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { config: null, problems: [{ path: '', message: 'the config must be a mapping with site and sensors' }] };
  }
  if (typeof raw.version === 'number' && raw.version > CONFIG_VERSION) {
    return { config: null, problems: [{ path: 'version', message: `version ${raw.version} is newer than this gateway understands (${CONFIG_VERSION}); upgrade the gateway` }] };
  }
  if (!validate(raw)) {
    const seen = new Set<string>();
    const problems: ConfigProblem[] = [];
    for (const e of validate.errors ?? []) {
      if (e.keyword === 'oneOf' || e.keyword === 'if') continue; // the branch's own errors say it better
      const { segments, message } = explain(e);
      const problem = withLine({ path: toPath(segments), message }, doc, lines);
      const key = `${problem.path}|${problem.message}`;
      if (!seen.has(key)) problems.push(problem), seen.add(key);
    }
    // Cross-field rules too, so one run lists everything; on a malformed file they may not get far.
    try {
      for (const p of normalise(raw).problems) if (!problems.some((q) => q.path.startsWith(p.path))) problems.push(withLine(p, doc, lines));
    } catch {
      /* the schema problems above already explain why */
    }
    return { config: null, problems };
  }
  const result = normalise(raw);
  return { config: result.config, problems: result.problems.map((p) => withLine(p, doc, lines)) };
}

/** Loads a config file; throws `ConfigError` listing every problem. */
export function loadConfig(file: string): SiteConfig {
  const { config, problems } = parseConfig(readFileSync(file, 'utf8'));
  if (!config) throw new ConfigError(problems, file);
  return config;
}
