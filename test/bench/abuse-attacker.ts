/**
 * The parent's side of abuse-child.ts: starts the attack process and tells when it is in place
 * and what it measured. Bounded: the child is killed if it outlives `boundMs`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AttackSpec } from './abuse-attacks.ts';

const CHILD = fileURLToPath(new URL('./abuse-child.ts', import.meta.url));

export interface Attacker {
  /** Resolves once every attack is in place (or the child ended). */
  ready: Promise<void>;
  /** One result per spec; rejects if the child died or overran its bound. */
  done: Promise<any[]>;
}

export function startAttacker(specs: AttackSpec[], boundMs: number): Attacker {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(specs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => (onReady = r));
  let results: any[] | null = null;
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = JSON.parse(line) as { ready?: true; results?: any[] };
      if (m.ready) onReady();
      if (m.results) results = m.results;
    }
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), boundMs);
  const done = new Promise<any[]>((resolve, reject) => {
    child.on('exit', (code, signal) => {
      clearTimeout(kill);
      onReady();
      if (results) resolve(results);
      else reject(new Error(`the attack process ended without results (${signal ?? code}${signal === 'SIGKILL' ? `, over its ${boundMs / 1000} s bound` : ''})`));
    });
  });
  return { ready, done };
}
