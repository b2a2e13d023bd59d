/** The `backup:` key: defaults, and every bad value reported as `path: message`. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../gateway/config/load.ts';

const base = "site: { id: demo, name: 示范 }\nsensors: [{ id: rg1, kind: rain }]\n";
const problems = (yaml: string): string[] => parseConfig(base + yaml).problems.map((p) => `${p.path}: ${p.message}`);

describe('config backup', () => {
  it('is absent by default, and gets its defaults when given a folder', () => {
    expect(parseConfig(base).config!.backup).toBeNull();
    expect(parseConfig(`${base}backup: { folder: /media/usb/shaobing }\n`).config!.backup).toEqual({ folder: '/media/usb/shaobing', keep: 7, atHour: 3, atMinute: 40, allowSameDisk: false });
    expect(parseConfig(`${base}backup: { folder: /mnt/b, keep: 30, at: '23:05', allow_same_disk: true }\n`).config!.backup).toEqual({ folder: '/mnt/b', keep: 30, atHour: 23, atMinute: 5, allowSameDisk: true });
  });

  it('says what is wrong with each bad value, all at once', () => {
    expect(problems('backup: { folder: usb/shaobing, at: "25:00" }\n')).toEqual([
      "backup.folder: must be an absolute path, e.g. /media/usb/shaobing (not 'usb/shaobing') (line 3)",
      "backup.at: must be a time of day as HH:MM (24 h), e.g. 03:40 (not '25:00') (line 3)",
    ]);
    expect(problems('backup: { folder: /b, at: "3:40" }\n')).toEqual(["backup.at: must be a time of day as HH:MM (24 h), e.g. 03:40 (not '3:40') (line 3)"]);
    expect(problems('backup: { keep: 3 }\n')).toEqual(['backup.folder: is required (line 3)']);
    expect(problems('backup: { folder: /b, keep: 0 }\n')).toEqual(['backup.keep: must be >= 1 (line 3)']);
    expect(problems('backup: { folder: /b, every: daily }\n')).toEqual(['backup.every: unknown key (line 3)']);
    expect(problems('backup: { folder: /b, allow_same_disk: yes please }\n')).toEqual(['backup.allow_same_disk: must be boolean (line 3)']);
  });
});
