import { describe, expect, it } from 'vitest';
import { csvField, csvRow } from '../../gateway/panel/csv.ts';
import { MAX_SESSIONS, Sessions } from '../../gateway/panel/sessions.ts';

const H = 3600_000;

describe('panel sessions', () => {
  it('expire after the idle time, and 24 h after sign-in however much they are used', () => {
    let t = 0;
    const s = new Sessions(12 * H, () => t);
    const ended: string[] = [];
    s.onEnd((x, why) => ended.push(`${x.username}:${why}`));
    const a = s.create('wang', 'officer', '127.0.0.1');
    expect(a.token).not.toBe(a.csrf);
    for (t = 0; t < 24 * H - 60_000; t += 6 * H - 1) {
      expect(s.get(a.token)).toBe(a);
      s.touch(a);
    }
    t = 24 * H;
    expect(s.get(a.token)).toBeNull();
    expect(ended).toEqual(['wang:expired']);
    const b = s.create('li', 'observer', '127.0.0.1');
    t += 12 * H;
    s.sweep();
    expect(ended).toEqual(['wang:expired', 'li:expired']);
    expect(s.get(b.token)).toBeNull();
  });

  it('keep at most MAX_SESSIONS, ending the least recently used', () => {
    const s = new Sessions(H, () => 0);
    const first = s.create('u0', 'officer', 'a');
    const second = s.create('u1', 'officer', 'a');
    s.touch(first);
    for (let i = 2; i <= MAX_SESSIONS; i++) s.create(`u${i}`, 'officer', 'a');
    expect(s.size).toBe(MAX_SESSIONS);
    expect(s.get(second.token)).toBeNull();
    expect(s.get(first.token)).toBe(first);
    expect(s.get(undefined)).toBeNull();
  });
});

describe('panel CSV', () => {
  it('quotes, doubles quotes, keeps Chinese and numbers, and defuses formulas', () => {
    expect(csvRow([1, '请撤离, 快', 'say "hi"', null, -2.5, '=HYPERLINK("x")', { a: 1 }])).toBe('1,"请撤离, 快","say ""hi""",,-2.5,"\'=HYPERLINK(""x"")","{""a"":1}"\r\n');
    expect(csvField('-1')).toBe("'-1");
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
  });
});
