/**
 * CSV for the event export (RFC 4180: CRLF, fields quoted when they hold a comma, quote or line
 * break, quotes doubled), UTF-8 with a BOM so Excel opens Chinese as Chinese rather than as
 * GBK mojibake. A text field starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'`
 * (OWASP "CSV injection"): a broadcast text or a device name is not a spreadsheet formula.
 * Numbers are written as numbers.
 */

export const BOM = '\uFEFF';

export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  let s = typeof v === 'string' ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
