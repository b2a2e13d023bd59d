/**
 * Broadcast templates: `{site}`, `{text}`, `{shelter}`, `{route}`, `{zone}` and any value the
 * alert carries (`{rain_3h_mm}`) are filled in; an unknown placeholder stays as written so a
 * typo is heard in a drill, not silently dropped.
 */
import type { SiteConfig } from '../config/types.ts';

export function fill(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{([a-z0-9_]+)\}/g, (whole, key: string) => (vars[key] === undefined ? whole : String(vars[key])));
}

export interface Spoken {
  textZh: string;
  textEn: string;
}

/** The site's broadcast for an alert sentence pair, in both languages. */
export function announce(config: SiteConfig, zone: string, textZh: string, textEn: string, values: Record<string, string | number> = {}, drill = false): Spoken {
  const { site, actions } = config;
  const z = config.zones.find((x) => x.id === zone);
  const zh = fill(actions.templateZh, { ...values, site: site.name, text: textZh, shelter: site.shelter.zh, route: site.route.zh, zone: z?.name ?? zone });
  const en = fill(actions.templateEn, { ...values, site: site.nameEn, text: textEn, shelter: site.shelter.en, route: site.route.en, zone: z?.nameEn ?? zone });
  return drill ? { textZh: actions.drillPrefixZh + zh, textEn: actions.drillPrefixEn + en } : { textZh: zh, textEn: en };
}
