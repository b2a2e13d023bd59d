/**
 * The physical panel in a running box (Aedes on loopback, a real SQLite log, the real engine
 * and planner), its board a real johnny-five Board over mock-firmata's io (panel-hw-rig.ts),
 * wired as README "Physical panel" says: emergency 2, silence 4, ack-all 7, drill key 8,
 * buzzer 5, fault LED 6, alarm RGB 9/10/11, uplink LED 12, power LED 13, drill LED 14.
 *
 * The hold is 1.5 s here (3 s in the field): a short press is released as soon as the box has
 * seen it down, well inside that.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../gateway/store/types.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { panelBoardRig, type PanelBoardRig } from '../helpers/panel-hw-rig.ts';
import { until } from '../helpers/until.ts';

const PIN = { emergency: 2, silence: 4, ackAll: 7, drillKey: 8, buzzer: 5, fault: 6, red: 9, green: 10, blue: 11, uplink: 12, power: 13, drill: 14 };
const T = 'sb/v1/itest';

let rig: BoxRig;
let board: PanelBoardRig;
let sm1: MqttClient;
let sm2: MqttClient;

const events = (type: string, after = 0): StoredEvent[] => rig.box.store.since(after).filter((e) => e.type === type);
const hw = (action: string, after = 0): Record<string, unknown>[] => events('panel_hw', after).map((e) => e.payload as Record<string, unknown>).filter((p) => p.action === action);
const commands = (type: string, after = 0): Record<string, any>[] => events('command', after).map((e) => e.payload as Record<string, any>).filter((p) => p.command.type === type);
const lastSeq = (): number => rig.box.store.since(0).at(-1)?.seq ?? 0;
const rgb = (): number[] => [board.out.get(PIN.red)!, board.out.get(PIN.green)!, board.out.get(PIN.blue)!];

/** Presses and releases a button, the release once the box has the press (its debounce is 20 ms). */
async function tap(pin: number): Promise<void> {
  board.press(pin, true);
  await new Promise((r) => setTimeout(r, 60));
  board.press(pin, false);
  await new Promise((r) => setTimeout(r, 60));
}

beforeAll(async () => {
  board = panelBoardRig();
  rig = await startBoxRig('panel_hw: { port: /dev/mock-panel, hold_s: 1.5, debounce_ms: 20 }\ndefaults: { smoke: { clear_after_s: 0 } }', { panelHw: { open: board.open, retry: { firstMs: 50, maxMs: 200 }, blinkMs: 100 } });
  sm1 = await rig.connect('sm1');
  sm2 = await rig.connect('sm2');
  await until('panel connected', () => hw('connected').length === 1 && board.out.get(PIN.power) === 1);
});

afterAll(async () => rig?.stop());

describe('physical panel: connecting', () => {
  it('sets the pins up: inputs pulled up and read, the alarm LED on PWM, the rest digital outputs', () => {
    const io = board.io!;
    for (const pin of [PIN.emergency, PIN.silence, PIN.ackAll, PIN.drillKey]) {
      expect(board.modes.get(pin)).toBe(io.MODES.INPUT);
      expect(board.reading.has(pin)).toBe(true);
    }
    // The older way to turn the pull-up on (mock-firmata knows no PULLUP mode): a high write to the input.
    expect(board.writes.filter((w) => w.value === 1 && [2, 4, 7, 8].includes(w.pin)).map((w) => w.pin).sort()).toEqual([2, 4, 7, 8]);
    for (const pin of [PIN.red, PIN.green, PIN.blue]) expect(board.modes.get(pin)).toBe(io.MODES.PWM);
    for (const pin of [PIN.buzzer, PIN.fault, PIN.uplink, PIN.power, PIN.drill]) expect(board.modes.get(pin)).toBe(io.MODES.OUTPUT);
    expect(hw('connected')[0]).toMatchObject({ action: 'connected', port: '/dev/mock-panel', via: 'panel_hw' });
  });

  it('a quiet box: power on; no uplink, no alarm, no buzzer', () => {
    expect(Object.fromEntries([PIN.power, PIN.uplink, PIN.buzzer, PIN.fault, PIN.drill].map((p) => [p, board.out.get(p)]))).toEqual({ [PIN.power]: 1, [PIN.uplink]: 0, [PIN.buzzer]: 0, [PIN.fault]: 0, [PIN.drill]: 0 });
    expect(rgb()).toEqual([0, 0, 0]);
  });
});

describe('physical panel: the emergency button', () => {
  it('a press shorter than the hold does nothing, and the log says so', async () => {
    const from = lastSeq();
    board.press(PIN.emergency, true);
    await until('emergency_down logged', () => hw('emergency_down', from).length === 1);
    board.press(PIN.emergency, false);
    const short = await until('emergency_short logged', () => hw('emergency_short', from)[0]);
    expect(short).toMatchObject({ by: 'panel-hw', hold_s: 1.5 });
    expect(short.held_ms as number).toBeLessThan(1500);
    // Nothing was broadcast, then or after the hold time would have passed.
    await new Promise((r) => setTimeout(r, 1700));
    expect(commands('broadcast', from)).toEqual([]);
    expect(events('effect', from).filter((e) => (e.payload as any).type === 'broadcast')).toEqual([]);
  });

  it('held for the hold time: the evacuation message on every zone, as an officer’s emergency by panel-hw', async () => {
    const from = lastSeq();
    board.press(PIN.emergency, true);
    const cmd = await until('broadcast command', () => commands('broadcast', from)[0]);
    board.press(PIN.emergency, false);
    expect(cmd).toMatchObject({ by: 'panel-hw', role: 'officer', via: 'panel_hw', result: { ok: true } });
    expect(cmd.command).toEqual({ type: 'broadcast', source: 'officer', by: 'panel-hw', template: 'evacuation', emergency: true, repeat: 3 });
    // The site's evacuation template (broadcasts.templates.evacuation), filled for the zone by the planner.
    const effect = await until('broadcast effect', () => events('effect', from).map((e) => e.payload as any).find((p) => p.type === 'broadcast'));
    expect(effect).toMatchObject({ actuator: 'spk1', zone: 'site', priority: 'emergency', by: 'panel-hw', template: 'evacuation', repeat: 3 });
    expect(effect.textZh).toBe('测试村紧急通知:全社区的居民请立即沿安全路线撤离到就近避难点。');
    expect(effect.textEn).toBe('Testville emergency notice: people in whole site, leave now for the nearest shelter by the safe route.');
    // One hold, one broadcast: holding on or releasing sends nothing more.
    await new Promise((r) => setTimeout(r, 200));
    expect(commands('broadcast', from)).toHaveLength(1);
    expect(hw('emergency_short', from)).toEqual([]);
    await rig.connect('wang').then((w) => w.publishAsync(`${T}/cmd/box`, JSON.stringify({ type: 'stop' }), { qos: 1 }));
  });
});

describe('physical panel: LEDs and buzzer follow the alerts', () => {
  it('a confirmed fire: red blinking and the buzzer; silence stops the buzzer and the siren; ack-all makes red steady; the clear turns it off', async () => {
    let from = lastSeq();
    await sm1.publishAsync(`${T}/sensor/sm1/reading`, JSON.stringify({ value: 'alarm' }), { qos: 1 });
    await sm2.publishAsync(`${T}/sensor/sm2/reading`, JSON.stringify({ value: 'alarm' }), { qos: 1 });
    const raised = await until('fire raised', () => events('transition', from).map((e) => e.payload as any).find((t) => t.kind === 'smoke' && t.level === 'red'));
    // Blinking red while not acknowledged: both halves of the blink are seen.
    await until('red lit', () => rgb().join() === '255,0,0');
    await until('red dark (blinking)', () => rgb().join() === '0,0,0');
    await until('buzzer on', () => board.out.get(PIN.buzzer) === 1);

    from = lastSeq();
    await tap(PIN.silence);
    const silence = await until('silence command', () => commands('silence', from)[0]);
    expect(silence).toMatchObject({ by: 'panel-hw', via: 'panel_hw', result: { ok: true } });
    expect(events('effect', from).map((e) => e.payload as any).some((p) => p.type === 'siren_off' && p.reason === 'silenced' && p.by === 'panel-hw')).toBe(true);
    await until('buzzer off after silence', () => board.out.get(PIN.buzzer) === 0);

    from = lastSeq();
    await tap(PIN.ackAll);
    const ack = await until('ack command', () => commands('ack', from)[0]);
    expect(ack).toMatchObject({ command: { type: 'ack', alert: raised.alert }, by: 'panel-hw', via: 'panel_hw', result: { ok: true } });
    expect(rig.box.engine.active().find((a) => a.alert === raised.alert)?.acknowledgedBy).toBe('panel-hw');
    // Acknowledged: steady red (no dark half for several blinks).
    await until('red steady', () => rgb().join() === '255,0,0');
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      seen.add(rgb().join());
      await new Promise((r) => setTimeout(r, 60));
    }
    expect([...seen]).toEqual(['255,0,0']);

    // Ack-all with nothing left to acknowledge is logged as such.
    from = lastSeq();
    await tap(PIN.ackAll);
    await until('ack_all with nothing to do', () => hw('ack_all', from).length === 1);
    expect(hw('ack_all', from)[0]).toMatchObject({ by: 'panel-hw', alerts: 0 });
    expect(commands('ack', from)).toEqual([]);

    await sm1.publishAsync(`${T}/sensor/sm1/reading`, JSON.stringify({ value: 'normal' }), { qos: 1 });
    await sm2.publishAsync(`${T}/sensor/sm2/reading`, JSON.stringify({ value: 'normal' }), { qos: 1 });
    await until('fire cleared', () => rig.box.engine.active().every((a) => a.kind !== 'smoke'));
    await until('alarm LED off', () => rgb().join() === '0,0,0');
    const dark = new Set<string>();
    for (let i = 0; i < 4; i++) {
      dark.add(rgb().join());
      await new Promise((r) => setTimeout(r, 60));
    }
    expect([...dark]).toEqual(['0,0,0']);
    expect(board.out.get(PIN.buzzer)).toBe(0);
  });
});

describe('physical panel: the drill key', () => {
  it('turned to DRILL starts a drill by panel-hw (drill LED on); back to NORMAL ends it (LED off)', async () => {
    let from = lastSeq();
    board.press(PIN.drillKey, true);
    const drill = await until('drill command', () => commands('drill', from)[0]);
    expect(drill).toMatchObject({ command: { type: 'drill', by: 'panel-hw' }, via: 'panel_hw', result: { ok: true } });
    await until('drill LED on', () => board.out.get(PIN.drill) === 1);
    expect(rig.box.engine.read((c) => c.planner.drill?.by)).toBe('panel-hw');

    from = lastSeq();
    board.press(PIN.drillKey, false);
    const end = await until('drill_end command', () => commands('drill_end', from)[0]);
    expect(end).toMatchObject({ by: 'panel-hw', via: 'panel_hw', result: { ok: true } });
    await until('drill LED off', () => board.out.get(PIN.drill) === 0);
    expect(rig.box.engine.read((c) => c.planner.drill)).toBeNull();
  });
});

describe('physical panel: unplugged and plugged back', () => {
  it('the loss is logged once, the failed retries not at all; replugged, it connects and works again', async () => {
    const from = lastSeq();
    const tried = board.opensTried;
    board.unplug();
    await until('lost logged', () => hw('lost', from).length === 1);
    expect(rig.box.panelHw!.state().connected).toBe(false);
    await until('several retries failed', () => board.opensTried >= tried + 4);
    expect(hw('lost', from)).toHaveLength(1);
    expect(hw('absent', from)).toEqual([]);

    // A press while unplugged reaches nothing; the box itself goes on.
    board.press(PIN.silence, true);
    board.press(PIN.silence, false);

    board.plug();
    await until('connected again', () => hw('connected', from).length === 1 && board.out.get(PIN.power) === 1);
    expect(rig.box.panelHw!.state()).toMatchObject({ connected: true, connects: 2 });
    const again = lastSeq();
    await tap(PIN.silence);
    await until('silence after replug', () => commands('silence', again).length === 1);
  });

  it('a button held down when the board comes back does nothing, and is said', async () => {
    const from = lastSeq();
    board.unplug();
    await until('lost', () => hw('lost', from).length === 1);
    board.press(PIN.emergency, true);
    board.plug();
    await until('stuck at connect', () => hw('stuck_at_connect', from).length === 1);
    expect(hw('stuck_at_connect', from)[0]).toMatchObject({ control: 'emergency', by: 'panel-hw' });
    await new Promise((r) => setTimeout(r, 1700));
    expect(commands('broadcast', from)).toEqual([]);
    board.press(PIN.emergency, false);
    await new Promise((r) => setTimeout(r, 100));
    expect(hw('emergency_short', from)).toEqual([]);
  });
});

describe('physical panel: the box stops', () => {
  it('every output goes off, the power LED too', async () => {
    board.press(PIN.emergency, false);
    await until('power on before', () => board.out.get(PIN.power) === 1);
    await rig.box.stop();
    for (const pin of [PIN.power, PIN.uplink, PIN.buzzer, PIN.fault, PIN.drill]) expect(board.out.get(pin)).toBe(0);
    expect(rgb()).toEqual([0, 0, 0]);
  });
});
