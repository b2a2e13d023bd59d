/**
 * `broadcasts.templates`: the built-in named broadcasts (defaults.ts BUILTIN_TEMPLATES) with the
 * site's own added and its changes to the built-ins merged field by field (a site may give only
 * `audio: evacuation-zh.wav`, or its own `text_zh`). A template of the site's own must give
 * both names and both texts: every broadcast is said in Chinese and in English.
 */
import { BUILTIN_TEMPLATES } from './defaults.ts';
import type { ConfigProblem } from './normalise.ts';
import type { BroadcastsConfig, BroadcastTemplate } from './types.ts';

type Raw = Record<string, any>;

const FIELDS: [keyof BroadcastTemplate, string][] = [
  ['nameZh', 'name_zh'],
  ['nameEn', 'name_en'],
  ['textZh', 'text_zh'],
  ['textEn', 'text_en'],
];

export function broadcastsConfig(raw: Raw | undefined, problems: ConfigProblem[]): BroadcastsConfig {
  const templates: Record<string, BroadcastTemplate> = {};
  for (const [id, t] of Object.entries(BUILTIN_TEMPLATES)) templates[id] = { ...t };
  for (const [id, t] of Object.entries((raw?.templates ?? {}) as Record<string, Raw>)) {
    const base = BUILTIN_TEMPLATES[id];
    // A bad id is the schema's to report; its fields are not worth a line each.
    if (!base && /^[a-z0-9][a-z0-9_-]{0,31}$/.test(id)) {
      for (const [, key] of FIELDS) {
        if (t[key] === undefined) problems.push({ path: `broadcasts.templates.${id}.${key}`, message: `is required ('${id}' is not a built-in template: ${Object.keys(BUILTIN_TEMPLATES).join(', ')})` });
      }
    }
    templates[id] = {
      nameZh: t.name_zh ?? base?.nameZh ?? id,
      nameEn: t.name_en ?? base?.nameEn ?? id,
      textZh: t.text_zh ?? base?.textZh ?? '',
      textEn: t.text_en ?? base?.textEn ?? '',
      audio: t.audio ?? base?.audio ?? null,
    };
  }
  return { templates };
}
