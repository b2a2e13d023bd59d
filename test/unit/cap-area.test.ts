/** Area matching for CAP warnings: GB/T 2260 division prefixes, polygons, circles. */
import { describe, expect, it } from 'vitest';
import { areaCovers, divisionCovers, divisionPrefix, haversineKm, inCircle, isDivisionCode, pointInPolygon, sitePlace } from '../../gateway/cap/cap-area.ts';
import type { CapArea, LatLon } from '../../gateway/cap/cap-read.ts';

const P = (s: string): LatLon[] => s.split(' ').map((p) => ({ lat: Number(p.split(',')[0]), lon: Number(p.split(',')[1]) }));

describe('GB/T 2260 division codes', () => {
  it('the significant prefix stops at the first level whose digits and all after are zero', () => {
    expect(divisionPrefix('410000')).toBe('41'); // province
    expect(divisionPrefix('410100')).toBe('4101'); // city
    expect(divisionPrefix('410102')).toBe('410102'); // county / district
    expect(divisionPrefix('130602000000')).toBe('130602'); // CPEAS 12 digits, county level
    expect(divisionPrefix('410102001000')).toBe('410102001'); // township
    expect(divisionPrefix('410102001203')).toBe('410102001203'); // village
    expect(divisionPrefix('410102001')).toBe('410102001'); // 9 digits: township
    expect(divisionPrefix('000000')).toBeNull(); // the config default: names nothing
    expect(divisionPrefix('41010')).toBeNull();
    expect(divisionPrefix('4101020010001')).toBeNull();
    expect(divisionPrefix('41a102')).toBeNull();
  });

  it('an area covers the divisions inside it, never a wider or a neighbouring one', () => {
    expect(divisionCovers('410102', '410102000000')).toBe(true); // county covers itself in 12 digits
    expect(divisionCovers('410102', '410102001203')).toBe(true); // and its villages
    expect(divisionCovers('410000', '410102')).toBe(true); // province covers 4101xx
    expect(divisionCovers('410000', '419001')).toBe(true); // and a county-level city under it directly
    expect(divisionCovers('410100', '410102')).toBe(true); // city covers its districts
    expect(divisionCovers('410100', '410202')).toBe(false); // not another city's
    expect(divisionCovers('410102', '410103')).toBe(false); // neighbouring district
    expect(divisionCovers('410000', '420102')).toBe(false); // another province
    expect(divisionCovers('410102001000', '410102001203')).toBe(true); // township covers its village
    expect(divisionCovers('410102001000', '410102002001')).toBe(false); // not the next township's
    // A township's warning does not cover a site known only by its county: it may be elsewhere.
    expect(divisionCovers('410102001000', '410102')).toBe(false);
    expect(divisionCovers('410102000000', '410102')).toBe(true);
    expect(divisionCovers('000000', '410102')).toBe(false); // all-zero covers nothing
    expect(divisionCovers('410102', '000000')).toBe(false);
  });

  it('reads only geocodes named as Chinese division codes', () => {
    for (const name of ['CPEAS Geographic Code', 'GB/T 2260', 'GB2260', 'GBT 2260', '行政区划代码', 'ADCODE']) expect(isDivisionCode(name), name).toBe(true);
    for (const name of ['SAME', 'FIPS6', 'UGC', 'EMMA_ID', 'NUTS2', 'profile:CAP-CP:Location:0.3']) expect(isDivisionCode(name), name).toBe(false);
  });
});

describe('polygons and circles', () => {
  const square = P('34.0,113.0 35.0,113.0 35.0,114.0 34.0,114.0 34.0,113.0');

  it('point in polygon: inside, outside, on an edge or a vertex (inside), concave', () => {
    expect(pointInPolygon({ lat: 34.5, lon: 113.5 }, square)).toBe(true);
    expect(pointInPolygon({ lat: 35.5, lon: 113.5 }, square)).toBe(false);
    expect(pointInPolygon({ lat: 34.5, lon: 112.9 }, square)).toBe(false);
    expect(pointInPolygon({ lat: 34.0, lon: 113.5 }, square)).toBe(true);
    expect(pointInPolygon({ lat: 35.0, lon: 114.0 }, square)).toBe(true);
    // A U shape: the notch (lat 34.6–35, lon 113.4–113.6) is outside.
    const u = P('34.0,113.0 35.0,113.0 35.0,113.4 34.6,113.4 34.6,113.6 35.0,113.6 35.0,114.0 34.0,114.0 34.0,113.0');
    expect(pointInPolygon({ lat: 34.8, lon: 113.5 }, u)).toBe(false);
    expect(pointInPolygon({ lat: 34.3, lon: 113.5 }, u)).toBe(true);
    expect(pointInPolygon({ lat: 34.8, lon: 113.2 }, u)).toBe(true);
  });

  it('haversine: one degree of latitude is about 111.2 km; a circle holds what is within its radius', () => {
    expect(haversineKm({ lat: 34, lon: 113 }, { lat: 35, lon: 113 })).toBeCloseTo(111.2, 1);
    // Beijing–Shanghai, about 1,067 km.
    expect(haversineKm({ lat: 39.9042, lon: 116.4074 }, { lat: 31.2304, lon: 121.4737 })).toBeCloseTo(1067, -1);
    const c = { centre: { lat: 34.75, lon: 113.65 }, radiusKm: 5 };
    expect(inCircle({ lat: 34.75 + 4.9 / 111.2, lon: 113.65 }, c)).toBe(true);
    expect(inCircle({ lat: 34.75 + 5.1 / 111.2, lon: 113.65 }, c)).toBe(false);
    expect(inCircle({ lat: 34.75, lon: 113.65 }, { ...c, radiusKm: 0 })).toBe(true);
  });
});

describe('does an area cover the site', () => {
  const cap = { areaCode: '410102', agencyCode: '0', sender: 's', geocode: '410102001203', circle: { lat: 34.75, lon: 113.65, radiusKm: 1 } };
  const place = sitePlace(cap);
  const area = (over: Partial<CapArea>): CapArea => ({ areaDesc: 'x', polygons: [], circles: [], geocodes: [], ...over });

  it('by geocode, by polygon, by circle; says which', () => {
    expect(areaCovers(area({ geocodes: [{ valueName: 'CPEAS Geographic Code', value: '410100000000' }] }), place)).toEqual({ covered: true, by: 'geocode', detail: '410100000000 covers 410102001203' });
    expect(areaCovers(area({ polygons: [P('34.7,113.6 34.8,113.6 34.8,113.7 34.7,113.7 34.7,113.6')] }), place)).toMatchObject({ covered: true, by: 'polygon' });
    expect(areaCovers(area({ circles: [{ centre: { lat: 34.8, lon: 113.65 }, radiusKm: 6 }] }), place)).toMatchObject({ covered: true, by: 'circle' });
  });

  it('not covered: another division, a polygon or circle elsewhere, a SAME code with the same digits', () => {
    expect(areaCovers(area({ geocodes: [{ valueName: 'CPEAS Geographic Code', value: '410103000000' }] }), place)).toEqual({ covered: false });
    expect(areaCovers(area({ polygons: [P('30.0,110.0 30.1,110.0 30.1,110.1 30.0,110.0')] }), place)).toEqual({ covered: false });
    expect(areaCovers(area({ circles: [{ centre: { lat: 34.9, lon: 113.65 }, radiusKm: 6 }] }), place)).toEqual({ covered: false });
    expect(areaCovers(area({ geocodes: [{ valueName: 'SAME', value: '410102' }] }), place)).toEqual({ covered: false });
  });

  it('the site code used is the config area_code when there is no geocode; the default 000000 matches nothing', () => {
    const county = sitePlace({ ...cap, geocode: null, circle: null });
    expect(county).toEqual({ codes: ['410102'], point: null });
    expect(areaCovers(area({ geocodes: [{ valueName: 'CPEAS Geographic Code', value: '410102000000' }] }), county)).toMatchObject({ covered: true });
    expect(areaCovers(area({ polygons: [P('34.7,113.6 34.8,113.6 34.8,113.7 34.7,113.7 34.7,113.6')] }), county)).toEqual({ covered: false });
    const unset = sitePlace({ ...cap, areaCode: '000000', geocode: null, circle: null });
    expect(unset.codes).toEqual([]);
    expect(areaCovers(area({ geocodes: [{ valueName: 'CPEAS Geographic Code', value: '000000000000' }] }), unset)).toEqual({ covered: false });
  });
});
