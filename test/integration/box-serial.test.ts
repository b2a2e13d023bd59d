/**
 * The box reading a smoke detector panel on a serial line: a real pty pair (socat), the
 * simulated panel writing ASCII `SMK` lines on one end, the box's serial driver on the other.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBox, type Box } from '../../gateway/box.ts';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';
import type { AlertTransition } from '../../gateway/engine/types.ts';
import { LineDevice } from '../../simulators/serial/line-device.ts';
import { ptyPair, type PtyPair } from '../helpers/serial-pty.ts';

let pty: PtyPair;
let panel: LineDevice;
let box: Box;
const transitions: AlertTransition[] = [];

beforeAll(async () => {
  pty = ptyPair();
  await pty.start();
  panel = new LineDevice({ path: pty.a, protocol: 'ascii' });
  await panel.open();
  const dir = mkdtempSync(join(tmpdir(), 'sb-box-serial-'));
  const { config, problems } = parseConfig(`
site: { id: ser, name: 测试 }
zones: [{ id: b3 }]
sensors:
  - { id: sm1, kind: smoke, zone: b3 }
  - { id: sm2, kind: smoke, zone: b3 }
serial:
  - { id: panel1, path: '${pty.b}', baud: 9600, protocol: ascii, devices: { '11': sm1, '12': sm2 } }
mqtt: { host: 127.0.0.1 }
store: { path: '${join(dir, 'box.db')}' }
`);
  if (!config) throw new Error(problems.map(formatProblem).join('\n'));
  box = await startBox({ config, log: pino({ level: 'silent' }), tcpPort: 0, wsPort: 0 });
  box.ctx.bus.on('transition', (t) => transitions.push(t));
});

afterAll(async () => {
  await box?.stop();
  await panel?.close();
  await pty?.dispose();
});

describe('the box on a serial smoke panel', () => {
  it('two detectors alarming on the line confirm a fire', async () => {
    await panel.smoke('11', 'alarm');
    await panel.smoke('12', 'alarm');
    const end = Date.now() + 10_000;
    while (Date.now() < end && !transitions.some((t) => t.level === 'red')) await new Promise((r) => setTimeout(r, 25));
    expect(transitions.map((t) => `${t.transition}:${t.level}:${t.rule}`)).toEqual(['raised:yellow:smoke_pre_alarm', 'escalated:red:smoke_two_detectors']);
  });

  it('a wrong sensor in the serial map is a config error', () => {
    const { problems } = parseConfig(`
site: { id: ser, name: t }
sensors: [{ id: sm1, kind: smoke }]
serial: [{ id: p, path: /dev/null, protocol: ascii, devices: { '1': nope } }]
`);
    expect(problems.map(formatProblem)).toEqual(["serial[0].devices.1: unknown sensor 'nope' (line 4)"]);
  });
});
