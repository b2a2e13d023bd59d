/**
 * Every status problem the box raises has words for the panel (problem-words.ts); an unknown
 * code is shown as it is, never dropped.
 */
import { describe, expect, it } from 'vitest';
import type { DegradeReason } from '../../gateway/store/types.ts';
import type { BackupFault } from '../../gateway/backup/scheduled-backup.ts';
import { problemWords, storageReasonWords } from '../../gateway/shell/problem-words.ts';

const DEGRADE: DegradeReason[] = ['disk_full', 'read_only', 'io_error', 'corrupt', 'busy', 'newer_schema', 'cannot_open'];
const BACKUP: BackupFault[] = ['folder_missing', 'same_disk', 'not_writable', 'disk_full', 'read_only', 'check_failed', 'timeout', 'write_failed', 'source_missing', 'source_unreadable'];
const hasHan = (s: string): boolean => /\p{Script=Han}/u.test(s);

describe('problem words', () => {
  it.each(DEGRADE)('storage_degraded:%s says what is wrong and that alarms go on', (reason) => {
    const w = problemWords(`storage_degraded:${reason}`);
    expect(w.code).toBe(`storage_degraded:${reason}`);
    expect(w.text_zh).toMatch(/^事件日志无法写入:/);
    expect(w.text_zh).toContain('警报照常工作');
    expect(w.text_zh).not.toContain(reason);
    expect(w.text_en).toContain('Alarms work as usual');
    expect(storageReasonWords(reason).zh).not.toBe(reason);
  });

  it.each(BACKUP)('backup_failed:%s in words', (reason) => {
    const w = problemWords(`backup_failed:${reason}`);
    expect(w.text_zh).toMatch(/^每日备份失败:/);
    expect(w.text_zh).not.toContain(reason);
    expect(w.text_en).toMatch(/^the daily backup failed: /);
  });

  it('the log replaced and the physical panel away', () => {
    expect(hasHan(problemWords('storage_log_replaced:corrupt').text_zh)).toBe(true);
    expect(problemWords('panel_hw_disconnected')).toEqual({
      code: 'panel_hw_disconnected',
      text_zh: '实体控制面板未连接(请检查 USB 线),触摸屏照常可用',
      text_en: 'the physical control panel is not connected (check its USB cable); the touchscreen works as usual',
    });
  });

  it('an unknown code is shown as it is; an unknown reason keeps its code in the sentence', () => {
    expect(problemWords('something_new:x')).toEqual({ code: 'something_new:x', text_zh: 'something_new:x', text_en: 'something_new:x' });
    expect(problemWords('storage_degraded:weird').text_zh).toContain('weird');
    expect(storageReasonWords('weird')).toEqual({ zh: 'weird', en: 'weird' });
  });
});
