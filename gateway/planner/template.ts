/**
 * Broadcast templates: `{site}`, `{text}`, `{shelter}`, `{route}`, `{zone}` and any value the
 * alert carries (`{rain_3h_mm}`) are filled in; an unknown placeholder stays as written so a
 * typo is heard in a drill, not silently dropped. The shelter and route are the zone's
 * (config/places.ts): riverside is sent uphill, building 3 to the square.
 */
import { placeFor } from '../config/places.ts';
import type { SiteConfig } from '../config/types.ts';

export function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{([a-z0-9_]+)\}/g, (whole, key: string) => (vars[key] === undefined ? whole : String(vars[key])));
}

export interface Spoken {
  textZh: string;
  textEn: string;
}

/** The placeholders every template gets for a zone, in each language. */
function zoneVars(config: SiteConfig, zone: string): { zh: Record<string, string>; en: Record<string, string> } {
  const z = config.zones.find((x) => x.id === zone);
  const { shelter, route } = placeFor(config, zone);
  return {
    zh: { site: config.site.name, shelter: shelter.zh, route: route.zh, zone: z?.name ?? zone },
    en: { site: config.site.nameEn, shelter: shelter.en, route: route.en, zone: z?.nameEn ?? zone },
  };
}

function drilled(config: SiteConfig, s: Spoken, drill: boolean): Spoken {
  const a = config.actions;
  return drill ? { textZh: a.drillPrefixZh + s.textZh, textEn: a.drillPrefixEn + s.textEn } : s;
}

/** The site's broadcast for an alert sentence pair, in both languages. */
export function announce(config: SiteConfig, zone: string, textZh: string, textEn: string, values: Record<string, string | number> = {}, drill = false): Spoken {
  const { actions } = config;
  const v = zoneVars(config, zone);
  const zh = fill(actions.templateZh, { ...values, ...v.zh, text: textZh });
  const en = fill(actions.templateEn, { ...values, ...v.en, text: textEn });
  return drilled(config, { textZh: zh, textEn: en }, drill);
}

/**
 * A named broadcast (`broadcasts.templates.<id>`) filled for a zone; null for an id the site has
 * no template of. An officer's own words, if given, fill `{text}`; a template without `{text}`
 * says them after its own sentence, so nothing the officer typed is lost.
 */
export function fromTemplate(config: SiteConfig, id: string, zone: string, text?: { textZh: string; textEn?: string }, drill = false): Spoken | null {
  const t = Object.hasOwn(config.broadcasts.templates, id) ? config.broadcasts.templates[id]! : null;
  if (!t) return null;
  const v = zoneVars(config, zone);
  const own = text ? { zh: text.textZh, en: text.textEn ?? text.textZh } : null;
  let zh = fill(t.textZh, own ? { ...v.zh, text: own.zh } : v.zh);
  let en = fill(t.textEn, own ? { ...v.en, text: own.en } : v.en);
  if (own && !t.textZh.includes('{text}')) zh += own.zh;
  if (own && !t.textEn.includes('{text}')) en += ` ${own.en}`;
  return drilled(config, { textZh: zh, textEn: en }, drill);
}
