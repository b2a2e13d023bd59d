/**
 * gateway/store/schedule-locale.ts: node-schedule's jobs are computed without luxon asking the
 * system for a locale (the one Intl.DateTimeFormat that loads ICU's locale data, ~7 MB of RSS),
 * and at the same times. Each case runs in its own process: luxon caches the answer.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../helpers/schedule-locale-child.ts', import.meta.url));
const run = (mode: 'box' | 'bare'): { made: string[]; next: number[]; retentionLocal: number } =>
  JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', CHILD, mode], { encoding: 'utf8' }));

describe('node-schedule without ICU locale data', () => {
  it('as the store loads it, computing its jobs makes no Intl.DateTimeFormat; alone, luxon makes one for the system locale', () => {
    const bare = run('bare');
    expect(bare.made).toHaveLength(1);
    expect(bare.made[0]).toContain('systemLocale');
    expect(run('box').made).toEqual([]);
  });

  it('the jobs run at the same times: rollup every 5 s, retention at 03:17 local time', () => {
    const box = run('box');
    const bare = run('bare');
    expect(box.next[1]).toBe(bare.next[1]);
    expect(box.next[0]! % 5000).toBe(0);
    expect(box.retentionLocal).toBe(3 * 60 + 17);
  });
});
