/**
 * `npm start`'s demo, sped up: the box, the simulated Modbus gateway (rain gauge, river probe,
 * siren relay) and the simulated MQTT devices (smoke detectors) run the scenario, and the
 * rainstorm, the river and the stairwell fire each raise their alert and sound the relay; the box
 * speaks the broadcasts itself, a WAV each in the audio folder.
 * (100 ms per scenario minute: the river's 5 s minimum duration needs at least that.)
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startDemo } from '../../gateway/demo.ts';
import type { AlertTransition } from '../../gateway/engine/types.ts';
import { soxStats } from '../helpers/sox.ts';

let demo: Awaited<ReturnType<typeof startDemo>> | undefined;
afterAll(async () => demo?.stop());

describe('the demo (npm start)', () => {
  it('runs the scenario end to end over Modbus and MQTT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-demo-'));
    demo = await startDemo({ log: pino({ level: 'silent' }), stepMs: 100, tcpPort: 0, wsPort: 0, panelPort: 0, dbPath: join(dir, 'demo.db'), audioFolder: join(dir, 'audio') });
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
    // The speaker spoke: each broadcast a WAV in the audio folder (data/audio/ under npm start),
    // with its amplifier on relay 2 (coil 1) of the same board.
    const wavs = readdirSync(join(dir, 'audio')).filter((f) => f.endsWith('.wav'));
    expect(wavs.length).toBeGreaterThan(0);
    const stats = wavs.map((f) => ({ f, ...soxStats(join(dir, 'audio', f)) })).sort((a, b) => b.lengthS - a.lengthS);
    for (const w of stats) console.log(`demo WAV ${w.f}: ${w.lengthS.toFixed(2)} s, RMS ${w.rms.toFixed(3)}, peak ${w.maxAmplitude.toFixed(3)}`);
    // Alerts follow each other fast at this speed, each broadcast cutting the one before: the
    // longest still has speech after its chime (1.6 s).
    expect(stats[0]!.lengthS).toBeGreaterThan(2.1);
    expect(stats[0]!.rms).toBeGreaterThan(0.02);
    expect(relay.coilWrites().some((w) => w.source === 'master' && w.address === 1 && w.value === true)).toBe(true);
  }, 90_000);
});
