/**
 * The township broker's topics (README "Township integration"): the local broker's tree
 * (broker/topics.ts: `event`, `status`, `alert/<key>`, `cmd/box`) plus what only the township
 * gets: `cap` (CAP 1.2 XML of each alert transition), `rollup` (per-minute reading rollups),
 * and the answers to its commands on `cmd/box/result`.
 */
import { topics, type SiteTopics } from '../broker/topics.ts';

export interface TownshipTopics extends SiteTopics {
  cap(): string;
  rollup(): string;
  commandResult(): string;
}

export function townshipTopics(site: string): TownshipTopics {
  const t = topics(site);
  return { ...t, cap: () => `${t.root}/cap`, rollup: () => `${t.root}/rollup`, commandResult: () => `${t.root}/cmd/box/result` };
}
