/** A synthetic site for benchmarks: `n` sensors, 40 % rain, 40 % water level, 20 % smoke. */
import { stringify } from 'yaml';
import { parseConfig } from '../../gateway/config/load.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';

export function benchSite(n: number): SiteConfig {
  const sensors = [];
  for (let i = 0; i < n; i++) {
    const r = i % 5;
    if (r < 2) sensors.push({ id: `rg${i}`, kind: 'rain' });
    else if (r < 4) sensors.push({ id: `wl${i}`, kind: 'water_level', stages: { warning: 2.5, guaranteed: 3.2 } });
    else sensors.push({ id: `sm${i}`, kind: 'smoke', zone: `z${i % 50}` });
  }
  const { config, problems } = parseConfig(stringify({ site: { id: 'bench', name: 'bench' }, sensors }));
  if (!config) throw new Error(problems.map((p) => p.message).join('\n'));
  return config;
}

/** A plausible value for sensor `i` at step `k` (rain counts up, rivers wander, smoke mostly normal). */
export function benchValue(id: string, k: number): number {
  if (id.startsWith('rg')) return Math.floor(k / 7) * 0.2;
  if (id.startsWith('wl')) return 1.5 + Math.sin(k / 500) * 1.2;
  return k % 997 === 0 ? 1 : 0;
}

export function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
