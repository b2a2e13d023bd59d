/**
 * A line to the parent of a test child process, on fd 1 with writeSync (retried while the pipe is
 * full): it is in the pipe before the child does anything else, so a SIGKILL right after loses
 * nothing said. Through process.stdout lines queue inside the process and a kill loses them.
 */
import { writeSync } from 'node:fs';

export function say(line: string): void {
  const buf = Buffer.from(`${line}\n`);
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}
