/**
 * Runs the field-node firmware (AVR build) unmodified in simavr with its UART on a pty, and
 * follows the relay edges the harness reports (`relay <0|1> <sim ms>` on stdout).
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const FIRMWARE = fileURLToPath(new URL('../../firmware/', import.meta.url));

export type RelayEdge = { on: boolean; simMs: number };

export interface NodeSim {
  child: ChildProcessWithoutNullStreams;
  edges: RelayEdge[];
  /** Resolves once a relay edge matching `want` is reported after index `from`. */
  relayEdge(want: boolean, from: number, timeoutMs: number): Promise<{ edge: RelayEdge; index: number }>;
  stop(): Promise<void>;
}

export async function startNodeSim(link: string): Promise<NodeSim> {
  execFileSync('make', ['-s', '-C', FIRMWARE, 'avr', 'sim'], { stdio: 'pipe' });
  // -c: commands on stdin, exits when stdin closes; -t: wall-clock safety net.
  const child = spawn(join(FIRMWARE, 'build/node-sim'), ['-f', join(FIRMWARE, 'build/node.elf'), '-p', link, '-c', '-t', '600', ...(process.env.NODE_SIM_TRACE ? ['-v'] : [])]);
  if (process.env.NODE_SIM_TRACE) child.stderr.pipe(process.stderr);
  else child.stderr.resume();
  const edges: RelayEdge[] = [];
  const waiters: Array<() => void> = [];
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`node-sim exited early (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [kind, a, b] = line.split(' ');
      if (kind === 'ready') resolve();
      if (kind === 'relay') {
        edges.push({ on: a === '1', simMs: Number(b) });
        if (process.env.NODE_SIM_TRACE) process.stderr.write(`${line}\n`);
        for (const w of waiters.splice(0)) w();
      }
    });
  });
  return {
    child,
    edges,
    relayEdge(want, from, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const index = edges.findIndex((e, i) => i >= from && e.on === want);
          const edge = edges[index];
          if (!edge) return false;
          clearTimeout(timer);
          resolve({ edge, index });
          return true;
        };
        const timer = setTimeout(() => reject(new Error(`no relay ${want ? 'on' : 'off'} edge in ${timeoutMs} ms`)), timeoutMs);
        const retry = (): void => {
          if (!check()) waiters.push(retry);
        };
        retry();
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin.end('quit\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
