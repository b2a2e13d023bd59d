/**
 * What `shaobing doctor` finds, one result per check: what was checked, what was found and,
 * when it is not right, what to do, each in Chinese and English (the technician reads the
 * first, an integrator the second).
 */

/**
 * `pass` and `fail` are findings. `unknown`: the doctor could not tell (no time service in a
 * container, a figure only a running box gives); `skipped`: deliberately not checked (a bus the
 * running box is using). `info`: context that is neither (whether the box runs).
 */
export type CheckStatus = 'pass' | 'fail' | 'unknown' | 'skipped' | 'info';

export interface Said {
  zh: string;
  en: string;
}

export interface CheckResult {
  /** Stable id for scripts: `config`, `serial:<path>`, `modbus:<bus>:<unit>`, `disk`, `clock:ntp`, … */
  id: string;
  status: CheckStatus;
  /** The thing checked, e.g. 串口 /dev/ttyUSB0 · serial port /dev/ttyUSB0. */
  what: Said;
  /** What was found. */
  said: Said;
  /** What to do about it (a failure, an unknown); absent when nothing is to be done. */
  fix?: Said;
  /** The figures behind the sentence (`--json`), snake_case with units. */
  figures?: Record<string, number | string | boolean | null>;
}

export const said = (zh: string, en: string): Said => ({ zh, en });
