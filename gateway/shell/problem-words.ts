/**
 * What a status problem means, in words an officer reads on the panel's home screen. Problems
 * are codes on the wire (`storage_degraded:disk_full`, `backup_failed:folder_missing`,
 * `panel_hw_disconnected`; the retained status and the township read those); the panel shows
 * these words instead. A code not listed here is shown as it is, never dropped.
 */
const STORAGE: Record<string, [zh: string, en: string]> = {
  disk_full: ['存储卡已满', 'the storage card is full'],
  read_only: ['存储卡只读', 'the storage card is read-only'],
  io_error: ['存储卡读写出错(可能已损坏)', 'the storage card fails to read or write (it may be worn out)'],
  corrupt: ['日志文件已损坏', 'the log file is damaged'],
  busy: ['日志文件被其他程序占用', 'another program holds the log file'],
  newer_schema: ['日志文件来自更新版本的软件', 'the log file is from a newer version of the software'],
  cannot_open: ['无法打开日志文件', 'the log file cannot be opened'],
};

const BACKUP: Record<string, [zh: string, en: string]> = {
  folder_missing: ['未插入备份U盘(或备份文件夹不存在)', 'the backup USB stick is not plugged in (or its folder is missing)'],
  same_disk: ['备份文件夹与日志在同一张卡上', 'the backup folder is on the same card as the log'],
  not_writable: ['备份文件夹无法写入', 'the backup folder cannot be written'],
  disk_full: ['备份U盘已满', 'the backup USB stick is full'],
  read_only: ['备份U盘只读', 'the backup USB stick is read-only'],
  check_failed: ['备份文件校验失败', 'the backup file failed its check'],
  timeout: ['备份超时', 'the backup took too long'],
  write_failed: ['备份写入失败', 'writing the backup failed'],
  source_missing: ['找不到要备份的日志', 'the log to back up is missing'],
  source_unreadable: ['无法读取要备份的日志', 'the log to back up cannot be read'],
};

/** Why the log cannot be written, in a few words (the panel's disk line). */
export function storageReasonWords(reason: string): { zh: string; en: string } {
  const w = STORAGE[reason];
  return w ? { zh: w[0], en: w[1] } : { zh: reason, en: reason };
}

export interface ProblemText {
  code: string;
  text_zh: string;
  text_en: string;
}

export function problemWords(code: string): ProblemText {
  const [kind, reason = ''] = code.split(':', 2) as [string, string?];
  const pair = (zh: string, en: string): ProblemText => ({ code, text_zh: zh, text_en: en });
  if (kind === 'storage_degraded') {
    const w = storageReasonWords(reason);
    return pair(`事件日志无法写入:${w.zh}。警报照常工作,事件暂存在内存中,恢复后补写`, `the event log cannot be written: ${w.en}. Alarms work as usual; events are held in memory and written once it recovers`);
  }
  if (kind === 'storage_log_replaced') return pair('日志文件曾损坏,已另存并新建日志(请联系技术员取回旧文件)', 'the log file was damaged; it was set aside and a new log started (ask the technician to collect the old file)');
  if (kind === 'backup_failed') {
    const w = BACKUP[reason];
    return pair(`每日备份失败:${w?.[0] ?? reason}`, `the daily backup failed: ${w?.[1] ?? reason}`);
  }
  if (kind === 'panel_hw_disconnected') return pair('实体控制面板未连接(请检查 USB 线),触摸屏照常可用', 'the physical control panel is not connected (check its USB cable); the touchscreen works as usual');
  return pair(code, code);
}
