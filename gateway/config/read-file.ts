/**
 * Reads a site config file's bytes into text, refusing what the YAML parser should never see:
 * a file over `MAX_CONFIG_BYTES` (it is checked before a byte is read: a 650,000-sensor file of
 * 21 MB took 77 s and 3.9 GB to parse), UTF-16 (read as UTF-8 it became one odd scalar and the
 * report "must be a mapping"), NUL bytes, or bytes that are not UTF-8. Each refusal is a
 * `(top)` problem, reported like every other config problem.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { ConfigProblem } from './normalise.ts';

/**
 * The biggest config in this project (the e2e bench: 1,200 sensors and 1,200 device accounts,
 * one line each) is 204 KB. Parsing YAML costs a few hundred bytes of memory per byte of file
 * (a 949 KB file: 325 MB peak RSS); a file at this limit peaked at 175 MB, 75 MB over a small
 * one (README "Site config").
 */
export const MAX_CONFIG_BYTES = 512 * 1024;

const top = (message: string): { problems: ConfigProblem[] } => ({ problems: [{ path: '', message }] });

function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(10); i >= 0 && i < offset; i = bytes.indexOf(10, i + 1)) line++;
  return line;
}

/** Offset of the first byte that breaks UTF-8 (RFC 3629 §4), or -1. */
function firstBadUtf8(bytes: Buffer): number {
  const text = bytes.toString('utf8');
  // Decoding replaces each bad sequence with U+FFFD; counting the bytes of the text before it
  // finds where. A U+FFFD that is really in the file (EF BF BD) is fine.
  let at = 0;
  let prev = 0;
  for (let i = text.indexOf('\uFFFD'); i >= 0; prev = i + 1, at += 3, i = text.indexOf('\uFFFD', prev)) {
    at += Buffer.byteLength(text.slice(prev, i));
    if (bytes[at] !== 0xef || bytes[at + 1] !== 0xbf || bytes[at + 2] !== 0xbd) return at;
  }
  return -1;
}

/** The file's text, or why it is refused. Throws (with the OS's reason) if it cannot be read. */
export function readConfigFile(file: string): { text: string } | { problems: ConfigProblem[] } {
  const fd = openSync(file, 'r');
  let bytes: Buffer;
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_CONFIG_BYTES) return top(`the file is ${(size / 1048576).toFixed(1)} MiB; a site config may be at most ${MAX_CONFIG_BYTES / 1024} KiB`);
    bytes = Buffer.alloc(size);
    for (let at = 0, n; at < size && (n = readSync(fd, bytes, at, size - at, at)) > 0; ) at += n;
  } finally {
    closeSync(fd);
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return top('the file is UTF-16 (little-endian); save it as UTF-8');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return top('the file is UTF-16 (big-endian); save it as UTF-8');
  const nul = bytes.indexOf(0);
  if (nul >= 0) return top(`the file has NUL bytes (line ${lineAt(bytes, nul)}); is it UTF-16? save it as UTF-8`);
  const bad = isUtf8(bytes) ? -1 : firstBadUtf8(bytes);
  if (bad >= 0) return top(`the file is not UTF-8 (line ${lineAt(bytes, bad)}); save it as UTF-8`);
  const text = bytes.toString('utf8');
  return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
}
