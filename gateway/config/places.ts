/**
 * Shelters and routes: where each zone's people are sent, and by which way (issue 17).
 *
 * In the file, either the one `site.shelter` / `site.route` of version 1 (still valid: it
 * becomes the one shelter `shelter` and its route `route`), or the lists `site.shelters:
 * [{id, zh, en, zones?}]` and `site.routes: [{id, zh, en, shelter}]`. Not both of a kind (which
 * would win?), and routes name shelters, so `routes` needs `shelters`.
 *
 * A zone's shelter is the first that lists the zone in its `zones`, else the first that lists no
 * zones (it takes everyone), else the first. Its route is the first route to that shelter; a
 * shelter with no route is reached "by the safe route" (安全路线), or by `site.route` when the
 * site lists shelters but no routes at all.
 */
import { SITE_DEFAULTS } from './defaults.ts';
import type { ConfigProblem } from './normalise.ts';
import type { RouteConfig, ShelterConfig, SiteConfig, SitePlace } from './types.ts';

type Raw = Record<string, any>;

export interface Places {
  shelter: SitePlace;
  route: SitePlace;
  shelters: ShelterConfig[];
  routes: RouteConfig[];
}

const words = (p: { zh: string; en: string }): SitePlace => ({ zh: p.zh, en: p.en });

function duplicateIds(items: Raw[], path: string, problems: ConfigProblem[]): void {
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    const first = seen.get(it.id);
    if (first !== undefined) problems.push({ path: `${path}[${i}].id`, message: `duplicate id '${it.id}' (first at ${path}[${first}])` });
    else seen.set(it.id, i);
  });
}

/** The site's shelters and routes from the file's `site` (schema-valid), with cross-field problems. */
export function places(s: Raw, zoneIds: readonly string[], problems: ConfigProblem[]): Places {
  const shelterWords: SitePlace = { ...SITE_DEFAULTS.shelter, ...s.shelter };
  const routeWords: SitePlace = { ...SITE_DEFAULTS.route, ...s.route };
  if (s.shelter !== undefined && s.shelters !== undefined) problems.push({ path: 'site.shelter', message: 'give shelter or shelters, not both (the first of shelters is the site shelter)' });
  if (s.route !== undefined && s.routes !== undefined) problems.push({ path: 'site.route', message: 'give route or routes, not both (each route names its shelter)' });
  if (s.routes !== undefined && s.shelters === undefined) problems.push({ path: 'site.routes', message: 'routes need site.shelters (each route names the shelter it leads to)' });
  if (s.shelters === undefined) {
    const shelter: ShelterConfig = { id: 'shelter', ...shelterWords, zones: null };
    return { shelter: shelterWords, route: routeWords, shelters: [shelter], routes: [{ id: 'route', ...routeWords, shelter: shelter.id }] };
  }
  const rawShelters = s.shelters as Raw[];
  duplicateIds(rawShelters, 'site.shelters', problems);
  const shelters: ShelterConfig[] = rawShelters.map((x, i) => {
    for (const [j, z] of ((x.zones ?? []) as string[]).entries()) {
      if (!zoneIds.includes(z)) problems.push({ path: `site.shelters[${i}].zones[${j}]`, message: `unknown zone '${z}' (zones: ${zoneIds.join(', ')})` });
    }
    return { id: x.id, zh: x.zh, en: x.en, zones: x.zones ?? null };
  });
  const rawRoutes = (s.routes ?? []) as Raw[];
  duplicateIds(rawRoutes, 'site.routes', problems);
  const ids = shelters.map((x) => x.id);
  const routes: RouteConfig[] = rawRoutes.map((r, i) => {
    if (!ids.includes(r.shelter)) problems.push({ path: `site.routes[${i}].shelter`, message: `unknown shelter '${r.shelter}' (shelters: ${ids.join(', ')})` });
    return { id: r.id, zh: r.zh, en: r.en, shelter: r.shelter };
  });
  const first = shelters[0]!;
  const toFirst = routes.find((r) => r.shelter === first.id);
  return { shelter: words(first), route: toFirst ? words(toFirst) : routeWords, shelters, routes };
}

/** The shelter a zone's people are sent to (see the top of this file). */
export function shelterFor(config: Pick<SiteConfig, 'site'>, zone: string): ShelterConfig {
  const { shelters } = config.site;
  return shelters.find((x) => x.zones?.includes(zone)) ?? shelters.find((x) => x.zones === null) ?? shelters[0]!;
}

/**
 * The way to a shelter: its first route; for a shelter without one, `site.route` when the site
 * lists no routes at all (those are its words), else the default "safe route".
 */
export function routeFor(config: Pick<SiteConfig, 'site'>, shelter: string): SitePlace {
  const { routes, route } = config.site;
  const r = routes.find((x) => x.shelter === shelter);
  if (r) return words(r);
  return routes.length === 0 ? route : { ...SITE_DEFAULTS.route };
}

/** A zone's shelter and the way there, as broadcasts and CAP instructions say them. */
export function placeFor(config: Pick<SiteConfig, 'site'>, zone: string): { shelter: SitePlace; route: SitePlace } {
  const shelter = shelterFor(config, zone);
  return { shelter: words(shelter), route: routeFor(config, shelter.id) };
}
