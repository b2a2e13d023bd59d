/**
 * Does a CAP area cover this site? Pure. Three ways, any one suffices:
 *
 * - **Geocode** (GB/T 2260 administrative division codes, extended to 12 digits by the
 *   statistical division code's township and village parts, as CPEAS writes them). A code is
 *   read as the area it names: its *significant prefix*, cut at the first level whose digits
 *   and all after are zero. Levels end at digits 2 (province), 4 (city), 6 (county), 9
 *   (township) and 12 (village): `410000` is Henan (prefix `41`), `410100` Zhengzhou (`4101`),
 *   `410102` a district (`410102`), `410102001000` a township in it (`410102001`),
 *   `130602000000` a county (`130602`). An area covers the site when one of the site's codes
 *   (`site.cap.geocode`, `site.cap.area_code`), padded with zeros to 12 digits, starts with the
 *   area's prefix. So a province covers its counties and villages; a township's warning does
 *   not cover a site known only by its county code (the site may be elsewhere in the county: set
 *   the 12-digit `geocode`). An all-zero code (the config's default `000000`) names nothing
 *   and covers nothing. Only geocodes whose valueName says they are Chinese division codes are
 *   read (CPEAS, GB/T 2260, 行政区划, ADCODE): a US SAME code is six digits too.
 * - **Polygon** (§3.2.4, WGS 84 "lat,lon" pairs): the site's point inside or on the edge.
 * - **Circle** (§3.2.4, "lat,lon radius_km"): the site's point within the radius (haversine).
 *
 * The site's point is the centre of `site.cap.circle`; without one, only geocodes can match.
 */
import type { CapConfig } from '../config/types.ts';
import type { CapArea, CapCircle, LatLon } from './cap-read.ts';

/** Digits after which each GB/T 2260 (+ township, village) level ends. */
const LEVEL_ENDS = [2, 4, 6, 9, 12] as const;

const DIVISION_CODE = /CPEAS|GB\s*\/?\s*T?\s*2260|行政区划|^\s*ADCODE\s*$/i;

/** The significant prefix of a 6- to 12-digit division code; null for a code that names nothing. */
export function divisionPrefix(code: string): string | null {
  if (!/^\d{6,12}$/.test(code)) return null;
  const full = code.padEnd(12, '0');
  for (const end of LEVEL_ENDS) if (/^0*$/.test(full.slice(end))) return /^0*$/.test(full.slice(0, end)) ? null : full.slice(0, end);
  return full;
}

/** Whether the division named by `areaCode` contains the one named by `siteCode`. */
export function divisionCovers(areaCode: string, siteCode: string): boolean {
  const area = divisionPrefix(areaCode);
  const site = divisionPrefix(siteCode);
  return area !== null && site !== null && site.padEnd(12, '0').startsWith(area);
}

/** Whether a CAP geocode's valueName marks it as a Chinese division code. */
export function isDivisionCode(valueName: string): boolean {
  return DIVISION_CODE.test(valueName);
}

const EARTH_RADIUS_KM = 6371.0088;

export function haversineKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

function onSegment(p: LatLon, a: LatLon, b: LatLon): boolean {
  const cross = (b.lon - a.lon) * (p.lat - a.lat) - (b.lat - a.lat) * (p.lon - a.lon);
  if (Math.abs(cross) > 1e-12) return false;
  return p.lon >= Math.min(a.lon, b.lon) && p.lon <= Math.max(a.lon, b.lon) && p.lat >= Math.min(a.lat, b.lat) && p.lat <= Math.max(a.lat, b.lat);
}

/**
 * Ray casting in the lon/lat plane: exact enough for a county-sized polygon away from the poles
 * and the antimeridian (China is neither). A point on an edge or vertex counts as inside: a
 * site on a boundary line hears the warning.
 */
export function pointInPolygon(p: LatLon, poly: readonly LatLon[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i]!;
    const b = poly[j]!;
    if (onSegment(p, a, b)) return true;
    if (a.lat > p.lat !== b.lat > p.lat && p.lon < ((b.lon - a.lon) * (p.lat - a.lat)) / (b.lat - a.lat) + a.lon) inside = !inside;
  }
  return inside;
}

export function inCircle(p: LatLon, c: CapCircle): boolean {
  return haversineKm(p, c.centre) <= c.radiusKm;
}

/** Where the site is, for matching. */
export interface SitePlace {
  /** Division codes, most specific first; all-zero ones left out. */
  codes: string[];
  point: LatLon | null;
}

export function sitePlace(cap: CapConfig): SitePlace {
  const codes = [cap.geocode, cap.areaCode].filter((c): c is string => c !== null && divisionPrefix(c) !== null);
  return { codes, point: cap.circle ? { lat: cap.circle.lat, lon: cap.circle.lon } : null };
}

export type AreaMatch = { covered: true; by: 'geocode' | 'polygon' | 'circle'; detail: string } | { covered: false };

export function areaCovers(area: CapArea, site: SitePlace): AreaMatch {
  for (const g of area.geocodes) {
    if (!isDivisionCode(g.valueName)) continue;
    const code = site.codes.find((c) => divisionCovers(g.value, c));
    if (code) return { covered: true, by: 'geocode', detail: `${g.value} covers ${code}` };
  }
  const p = site.point;
  if (p) {
    if (area.polygons.some((poly) => pointInPolygon(p, poly))) return { covered: true, by: 'polygon', detail: `${p.lat},${p.lon} inside a polygon of ${area.areaDesc}` };
    const c = area.circles.find((circle) => inCircle(p, circle));
    if (c) return { covered: true, by: 'circle', detail: `${p.lat},${p.lon} within ${c.radiusKm} km of ${c.centre.lat},${c.centre.lon}` };
  }
  return { covered: false };
}
