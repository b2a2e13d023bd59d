/**
 * The doctor's output: one line per check, a mark first, then Chinese · English, then the fix
 * on the same line; a summary; and the exit code. Pure.
 */
import type { CheckResult, CheckStatus } from './types.ts';

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', unknown: '?', skipped: '–', info: 'i' };

export function line(r: CheckResult): string {
  const fix = r.fix ? ` — 处理: ${r.fix.zh} · fix: ${r.fix.en}` : '';
  return `${MARK[r.status]} ${r.what.zh} · ${r.what.en}: ${r.said.zh} · ${r.said.en}${fix}`;
}

/**
 * 0 only when every check passed; 1 when any failed; 3 when none failed but some could not be
 * checked or were skipped (the lines say which and why). `info` lines do not count.
 */
export function exitCode(results: readonly CheckResult[]): 0 | 1 | 3 {
  if (results.some((r) => r.status === 'fail')) return 1;
  if (results.some((r) => r.status === 'unknown' || r.status === 'skipped')) return 3;
  return 0;
}

export function summary(results: readonly CheckResult[]): string {
  const n = (s: CheckStatus): number => results.filter((r) => r.status === s).length;
  const notChecked = n('unknown') + n('skipped');
  const code = exitCode(results);
  const verdict = code === 0 ? '全部通过 · all passed' : code === 1 ? '有问题,见 ✗ 行 · problems found, see the ✗ lines' : '没有失败,但有项目未能检查 · nothing failed, but not everything could be checked';
  return `${verdict}: 通过 ${n('pass')} · ${n('pass')} passed, 失败 ${n('fail')} · ${n('fail')} failed, 未检查 ${notChecked} · ${notChecked} not checked`;
}
