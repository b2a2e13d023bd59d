/**
 * A generic difference between two states of the same shape, in JSON, and its application to a
 * third: how the core's state is saved and restored across a restart (core-snapshot.ts) without
 * a serializer per state type. A field added to the engine's or the planner's state carries over
 * without this file changing.
 *
 * `diff(live, base)` walks both: plain objects and Maps key by key, everything else (arrays,
 * typed arrays, numbers, strings) as one value that is equal or not. What is identical or deeply
 * equal is left out, functions are left out (they are code, rebuilt from the config), and what
 * differs is encoded in full. Saved against the state a config starts with, the difference is the
 * state and never the spec: a threshold or duration taken from the config is equal in both and
 * is left out, so a restart under a changed config uses the new values.
 *
 * JSON lacks some of what the state holds; those are tagged as objects with one `$` key:
 * `{$num:'NaN'|'Infinity'|'-Infinity'}`, `{$undef:1}`, `{$map:[[k,v],…]}`, `{$set:[…]}`,
 * `{$typed:'Float64Array', data:[…]}`, `{$obj:{…}}` (a plain object that has a `$` key of its
 * own); and for a difference `{$diff:{field:…}}`, `{$mapdiff:{set:[[k,…]], del:[k]}}`, `{$del:1}`.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Returned by `diff` when there is no difference. */
export const SAME: unique symbol = Symbol('same');

export class StateDiffError extends Error {
  constructor(
    readonly code: 'unencodable' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'StateDiffError';
  }
}

type TypedArray = Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;
const TYPED: Record<string, new (data: number[]) => TypedArray> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
};

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v) as unknown;
  return p === Object.prototype || p === null;
}

function isTyped(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function num(n: number): Json {
  return Number.isFinite(n) ? n : { $num: String(n) };
}

/** The JSON form of a value (see the file's comment for the tags). Throws for functions, symbols, class instances. */
export function encode(v: unknown, path = ''): Json {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v === undefined) return { $undef: 1 };
  if (typeof v === 'number') return num(v);
  if (Array.isArray(v)) return v.map((x, i) => encode(x, `${path}[${i}]`));
  if (isTyped(v)) return { $typed: v.constructor.name, data: Array.from(v, num) };
  if (v instanceof Map) return { $map: [...v].map(([k, x]) => [encode(k, `${path}<key>`), encode(x, `${path}.${String(k)}`)]) };
  if (v instanceof Set) return { $set: [...v].map((x) => encode(x, `${path}<item>`)) };
  if (isPlain(v)) {
    const out: Record<string, Json> = {};
    let dollar = false;
    for (const k of Object.keys(v)) {
      if (typeof v[k] === 'function') continue;
      if (k.startsWith('$')) dollar = true;
      out[k] = encode(v[k], `${path}.${k}`);
    }
    return dollar ? { $obj: out } : out;
  }
  throw new StateDiffError('unencodable', `${path || 'the value'} (${typeof v === 'object' ? v.constructor?.name : typeof v}) has no JSON form`);
}

const tag = (j: Json): string | null => {
  if (j === null || typeof j !== 'object' || Array.isArray(j)) return null;
  const keys = Object.keys(j);
  return keys.length >= 1 && keys[0]!.startsWith('$') ? keys[0]! : null;
};

function malformed(path: string, what: string): StateDiffError {
  return new StateDiffError('malformed', `${path || 'the snapshot'}: ${what}`);
}

/** The value an `encode` result stands for. Throws StateDiffError `malformed` for a tag it does not know. */
export function decode(j: Json, path = ''): unknown {
  if (j === null || typeof j !== 'object') return j;
  if (Array.isArray(j)) return j.map((x, i) => decode(x, `${path}[${i}]`));
  const o = j as Record<string, Json>;
  const fields = (x: Json): unknown => {
    if (!isPlain(x)) throw malformed(path, 'an escaped object is not an object');
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, decode(v, `${path}.${k}`)]));
  };
  switch (tag(j)) {
    case null:
      return fields(j);
    case '$obj':
      return fields(o.$obj as Json);
    case '$undef':
      return undefined;
    case '$num':
      return Number(o.$num);
    case '$typed': {
      const Ctor = TYPED[String(o.$typed)];
      if (!Ctor || !Array.isArray(o.data)) throw malformed(path, `typed array ${String(o.$typed)}`);
      return new Ctor(o.data.map((x) => decode(x) as number));
    }
    case '$map':
      if (!Array.isArray(o.$map)) throw malformed(path, 'map entries are not a list');
      return new Map(o.$map.map((e) => (Array.isArray(e) && e.length === 2 ? [decode(e[0]!), decode(e[1]!, `${path}.${String(e[0])}`)] : badEntry(path))));
    case '$set':
      if (!Array.isArray(o.$set)) throw malformed(path, 'set items are not a list');
      return new Set(o.$set.map((x) => decode(x, path)));
    default:
      throw malformed(path, `unknown tag ${tag(j)}`);
  }
}

function badEntry(path: string): never {
  throw malformed(path, 'a map entry is not a [key, value] pair');
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || isTyped(a)) {
    const x = a as ArrayLike<unknown>;
    const y = b as ArrayLike<unknown>;
    if (Array.isArray(a) !== Array.isArray(b) || a.constructor !== b.constructor || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!equal(x[i], y[i])) return false;
    return true;
  }
  if (a instanceof Map || b instanceof Map) return a instanceof Map && b instanceof Map && a.size === b.size && [...a].every(([k, v]) => b.has(k) && equal(v, b.get(k)));
  if (a instanceof Set || b instanceof Set) return a instanceof Set && b instanceof Set && a.size === b.size && [...a].every((v) => b.has(v));
  if (!isPlain(a) || !isPlain(b)) return false;
  const ka = Object.keys(a).filter((k) => typeof a[k] !== 'function');
  const kb = Object.keys(b).filter((k) => typeof b[k] !== 'function');
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
}

/** What `live` has that `base` has not, or SAME. Throws StateDiffError `unencodable` (see encode). */
export function diff(live: unknown, base: unknown, path = ''): Json | typeof SAME {
  if (live === base || typeof live === 'function') return SAME;
  if (isPlain(live) && isPlain(base)) {
    const out: Record<string, Json> = {};
    let any = false;
    for (const k of Object.keys(live)) {
      const v = live[k];
      // Most of a state is what the config built, untouched: skip it before building a path.
      if (typeof v === 'function' || (v === base[k] && (v !== undefined || Object.hasOwn(base, k)))) continue;
      const d = Object.hasOwn(base, k) ? diff(v, base[k], `${path}.${k}`) : encode(v, `${path}.${k}`);
      if (d === SAME) continue;
      out[k] = d;
      any = true;
    }
    for (const k of Object.keys(base)) {
      if (!Object.hasOwn(live, k) && typeof base[k] !== 'function') {
        out[k] = { $del: 1 };
        any = true;
      }
    }
    return any ? { $diff: out } : SAME;
  }
  if (live instanceof Map && base instanceof Map) {
    const set: Json[] = [];
    const del: Json[] = [];
    // forEach: no [key, value] array per entry (a planner's map of 1,000 sensors' zones).
    live.forEach((v: unknown, k: unknown) => {
      const b = base.get(k) as unknown;
      if (v === b && (b !== undefined || base.has(k))) return;
      const d = base.has(k) ? diff(v, b, `${path}.${String(k)}`) : encode(v, `${path}.${String(k)}`);
      if (d !== SAME) set.push([encode(k), d]);
    });
    for (const k of base.keys()) if (!live.has(k)) del.push(encode(k));
    return set.length || del.length ? { $mapdiff: { set, del } } : SAME;
  }
  return equal(live, base) ? SAME : encode(live, path);
}

/**
 * Applies `d` (from `diff`) to `target` and returns the value to keep at the target's place.
 * The target itself is changed in place (a slot that the engine's lists share); what lies below
 * it is copied where it changes, never mutated, because it may be shared (every idle slot's
 * `last` is one `NO_EVIDENCE` object). So the state must be a tree of data below the level at
 * which it is applied: two places holding one object are restored holding two equal ones.
 * A partial difference (a field or an entry) is applied only where the target has the object or
 * Map to apply it to; where it has not (the config no longer has that sensor or zone), it is
 * skipped and its path pushed to `skipped`.
 */
export function apply(target: unknown, d: Json, skipped: string[] = [], path = '', inPlace = true): unknown {
  const t = tag(d);
  const o = d as Record<string, Json>;
  if (t === '$diff') {
    if (!isPlain(target) || !isPlain(o.$diff)) {
      skipped.push(path || '.');
      return target;
    }
    const obj = inPlace ? target : { ...target };
    for (const [k, fd] of Object.entries(o.$diff as Record<string, Json>)) {
      if (tag(fd) === '$del') delete obj[k];
      else obj[k] = apply(obj[k], fd, skipped, `${path}.${k}`, false);
    }
    return obj;
  }
  if (t === '$mapdiff') {
    const md = o.$mapdiff as { set?: Json; del?: Json } | null;
    if (!(target instanceof Map) || !md || !Array.isArray(md.set) || !Array.isArray(md.del)) {
      skipped.push(path || '.');
      return target;
    }
    const map = inPlace ? target : new Map(target);
    for (const e of md.set) {
      if (!Array.isArray(e) || e.length !== 2) throw malformed(path, 'a map entry is not a [key, difference] pair');
      const key = decode(e[0]!);
      const p = `${path}.${String(key)}`;
      const partial = tag(e[1]!) === '$diff' || tag(e[1]!) === '$mapdiff';
      if (partial && !map.has(key)) skipped.push(p);
      else map.set(key, apply(map.get(key), e[1]!, skipped, p, false));
    }
    for (const k of md.del) map.delete(decode(k));
    return map;
  }
  return decode(d, path);
}

/** Makes `target` equal to `base` again (both of one shape), in place where it can; returns it. */
export function resetTo<T>(target: T, base: unknown): T {
  const d = diff(base, target);
  return d === SAME ? target : (apply(target, d) as T);
}
