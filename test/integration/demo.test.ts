/**
 * `npm start`'s demo, sped up: the box, the simulated Modbus gateway (rain gauge, river probe,
 * siren relay) and the simulated MQTT devices (smoke detectors, speaker) run the scenario, and
 * the rainstorm, the river and the stairwell fire each raise their alert and sound the relay.
 * (100 ms per scenario minute: the river's 5 s minimum duration needs at least that.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startDemo } from '../../gateway/demo.ts';
import type { AlertTransition } from '../../gateway/engine/types.ts';

let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
afterAll(async () => demo?.stop());

describe('the demo (npm start)', () => {
  it('runs the scenario end to end over Modbus and MQTT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-demo-'));
    demo = await startDemo({ log: pino({ level: 'silent' }), stepMs: 100, tcpPort: 0, wsPort: 0, panelPort: 0, ipSpeakersPort: 0, dbPath: join(dir, 'demo.db') });
    const seen: AlertTransition[] = [];
    demo.box.ctx.bus.on('transition', (t) => seen.push(t));
    const end = Date.now() + 45_000;
    const has = (pred: (t: AlertTransition) => boolean): boolean => seen.some(pred);
    while (Date.now() < end && !(has((t) => t.rule === 'rain_3h' && t.level === 'red') && has((t) => t.rule === 'stage_warning') && has((t) => t.kind === 'smoke' && t.level === 'red'))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(has((t) => t.rule === 'rain_3h' && t.level === 'red')).toBe(true); // the rain gauge over Modbus TCP
    expect(has((t) => t.rule === 'stage_warning')).toBe(true); // the river probe (QDY30A) over Modbus TCP
    expect(has((t) => t.kind === 'smoke' && t.level === 'red' && t.zone === 'stairwell')).toBe(true); // two MQTT detectors
    // The box drove the simulated relay with timed flash-on writes.
    const relay = demo.field.modbusDevices().get('siren1')!;
    expect(relay.coilWrites().some((w) => w.source === 'master' && w.action === 'flash_on')).toBe(true);
  }, 90_000);
});
