/**
 * Starts test/helpers/modbus-pymodbus-slave.py (Debian's pymodbus 3.0.0rc1 under /usr/bin/python3)
 * serving given memory images on 127.0.0.1, and ends it. Only processes started here are killed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimulatedDevice } from '../../simulators/modbus/bus.ts';

const SCRIPT = fileURLToPath(new URL('./modbus-pymodbus-slave.py', import.meta.url));
export const PYTHON = '/usr/bin/python3';

type Tables = { co: Record<string, number>; di: Record<string, number>; hr: Record<string, number>; ir: Record<string, number> };
const KEY = { coil: 'co', discrete: 'di', holding: 'hr', input: 'ir' } as const;

/** The memory of simulated devices as the slave script's JSON: unit → table → address → word. */
export function memoryImage(devices: SimulatedDevice[]): { units: Record<string, Tables> } {
  const units: Record<string, Tables> = {};
  for (const d of devices) {
    const t: Tables = { co: {}, di: {}, hr: {}, ir: {} };
    for (const r of d.profile.registers) d.words(r.name).forEach((w, i) => (t[KEY[r.table]][String(r.address + i)] = w));
    units[String(d.unit)] = t;
  }
  return { units };
}

export interface PymodbusSlave {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

function exited(child: ChildProcessWithoutNullStreams, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startPymodbusSlave(image: ReturnType<typeof memoryImage>, timeoutMs = 30_000): Promise<PymodbusSlave> {
  const child = spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    if (err.length < 8000) err += d.toString();
  });
  const stop = async () => {
    child.stdin.end();
    if (await exited(child, 3000)) return;
    child.kill('SIGTERM');
    if (await exited(child, 2000)) return;
    child.kill('SIGKILL');
    await exited(child, 1000);
  };
  child.stdin.write(`${JSON.stringify(image)}\n`);
  const port = await new Promise<number | Error>((resolve) => {
    const timer = setTimeout(() => resolve(new Error(`pymodbus slave not ready in ${timeoutMs} ms: ${err.slice(-1000)}`)), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(/^ready (\d+)$/m);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('error', (e) => resolve(new Error(`cannot run ${PYTHON}: ${e.message}`)));
    child.once('exit', (code) => resolve(new Error(`pymodbus slave exited (${code}): ${err.slice(-2000)}`)));
  });
  if (port instanceof Error) {
    await stop();
    throw port;
  }
  return { port, pid: child.pid as number, stop };
}
