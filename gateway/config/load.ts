/**
 * Reads a site config (YAML or JSON), validates it against the schema with every error at once,
 * and returns the effective config or the list of `path: message (line N)` problems.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { MAX_SENSORS, siteConfigSchema } from './schema.ts';
import { normalise, type ConfigProblem } from './normalise.ts';
import type { SiteConfig } from './types.ts';
import { ConfigError } from './errors.ts';
import { readConfigFile } from './read-file.ts';

export { ConfigError, formatProblem, problemLines } from './errors.ts';

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
      // A key of a map (`propertyNames`: a pattern's or a template's id): name the key itself.
      if (typeof (e as { propertyName?: unknown }).propertyName === 'string') return { segments: [...segments, (e as { propertyName: string }).propertyName], message: `not a valid name: must match ${p.pattern}` };
      return { segments, message: segments.at(-1) === 'utc_offset' ? 'must look like +08:00' : `must match ${p.pattern}` };
    default:
      return { segments, message: e.message ?? e.keyword };
  }
}

/** `sensors[1].stages` → '', `sensors`, `sensors[1]`, `sensors[1].stages` */
function pathPrefixes(path: string): string[] {
  const out = [''];
  for (let i = 1; i < path.length; i++) if (path[i] === '.' || path[i] === '[') out.push(path.slice(0, i));
  if (path) out.push(path);
  return out;
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

/**
 * The yaml package's own guard against "billion laughs" (an alias of aliases of aliases): past
 * this many expansions `toJS` throws. A site config has no need for aliases at all.
 */
const MAX_ALIASES = 100;

/** `toJS`, with its throws (the alias guard, or a stack overflow on absurd nesting) as a problem. */
function toPlain(doc: Document): { raw: unknown } | { problem: ConfigProblem } {
  try {
    return { raw: doc.toJS({ maxAliasCount: MAX_ALIASES }) };
  } catch (e) {
    const message = e instanceof ReferenceError && /alias/i.test(e.message) ? `more than ${MAX_ALIASES} alias expansions (*name); a site config needs nowhere near that many` : (e as Error).message;
    return { problem: { path: '', message: `YAML: ${message}` } };
  }
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
  const plain = toPlain(doc);
  if ('problem' in plain) return { config: null, problems: [plain.problem] };
  const raw = plain.raw as Record<string, any> | null;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { config: null, problems: [{ path: '', message: 'the config must be a mapping with site and sensors' }] };
  }
  // Refused before the schema and the cross-field rules walk every entry of an oversized list.
  if (Array.isArray(raw.sensors) && raw.sensors.length > MAX_SENSORS) {
    return { config: null, problems: [withLine({ path: 'sensors', message: `at most ${MAX_SENSORS} sensors per site, not ${raw.sensors.length}` }, doc, lines)] };
  }
  if (typeof raw.version === 'number' && raw.version > CONFIG_VERSION) {
    return { config: null, problems: [{ path: 'version', message: `version ${raw.version} is newer than this gateway understands (${CONFIG_VERSION}); upgrade the gateway` }] };
  }
  if (!validate(raw)) {
    const seen = new Set<string>();
    const problems: ConfigProblem[] = [];
    for (const e of validate.errors ?? []) {
      if (e.keyword === 'oneOf' || e.keyword === 'if' || e.keyword === 'propertyNames') continue; // the branch's (or the name's) own errors say it better
      const { segments, message } = explain(e);
      const problem = withLine({ path: toPath(segments), message }, doc, lines);
      const key = `${problem.path}|${problem.message}`;
      if (!seen.has(key)) problems.push(problem), seen.add(key);
    }
    // Cross-field rules too, so one run lists everything; on a malformed file they may not get far.
    // A cross-field problem at or above a schema problem's path is left out: the schema's says it.
    const covered = new Set(problems.flatMap((q) => pathPrefixes(q.path)));
    try {
      for (const p of normalise(raw).problems) if (!covered.has(p.path)) problems.push(withLine(p, doc, lines));
    } catch {
      /* the schema problems above already explain why */
    }
    return { config: null, problems };
  }
  const result = normalise(raw);
  return { config: result.config, problems: result.problems.map((p) => withLine(p, doc, lines)) };
}

/** Reads (read-file.ts: size and encoding) and checks a config file. Throws if it cannot be read. */
export function checkConfigFile(file: string): { config: SiteConfig | null; problems: ConfigProblem[] } {
  const read = readConfigFile(file);
  return 'problems' in read ? { config: null, problems: read.problems } : parseConfig(read.text);
}

/** Loads a config file; throws `ConfigError` listing every problem. */
export function loadConfig(file: string): SiteConfig {
  const { config, problems } = checkConfigFile(file);
  if (!config) throw new ConfigError(problems, file);
  return config;
}
