/**
 * One physical siren, one decision, in the running box: a site-wide red rainstorm alarm and a
 * building-3 fire both reach siren1 (it serves the `site` zone). The fire pre-empts the rain
 * alarm on it (same priority and level; fire is local and immediate), and when the fire
 * clears the rainstorm alarm sounds again, with no all-clear while it is still active.
 * Real parts: Aedes on a loopback port, SQLite in a temp folder, mqtt.js devices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { until } from '../helpers/until.ts';

let rig: BoxRig;
const connect = (user: string) => rig.connect(user);

beforeAll(async () => {
  // A 104 mm step in one reading is plausible here (the default allows 50 mm a minute), so the
  // rain alarm is red at once; the fire clears 1 s after both detectors are normal again.
  rig = await startBoxRig('defaults: { rain: { max_rate_mm_per_min: 200 }, smoke: { clear_after_s: 1 } }');
});

afterAll(async () => rig?.stop());

describe('one siren, two alarms', () => {
  it('the fire pre-empts the site-wide rain alarm on the shared siren; when it clears the rain alarm sounds again', async () => {
    const siren = await connect('siren1');
    const got: any[] = [];
    siren.on('message', (_t, payload) => got.push(JSON.parse(payload.toString())));
    await siren.subscribeAsync('sb/v1/itest/cmd/siren1', { qos: 1 });
    const said = (): string[] => got.map((m) => `${m.type}:${m.pattern ?? m.reason}:${m.alert ?? ''}`.replace(/\/[\d.]+$/, ''));

    const rg1 = await connect('rg1');
    await rg1.publishAsync('sb/v1/itest/sensor/rg1/reading', JSON.stringify({ value: 0, unit: 'mm' }), { qos: 1 });
    await rg1.publishAsync('sb/v1/itest/sensor/rg1/reading', JSON.stringify({ value: 104.2, unit: 'mm' }), { qos: 1 });
    await until('the rain alarm on siren1', () => got.some((m) => m.type === 'siren' && m.pattern === 'air_raid_alarm'));

    const sm1 = await connect('sm1');
    const sm2 = await connect('sm2');
    const smoke = async (value: string): Promise<void> => {
      await sm1.publishAsync('sb/v1/itest/sensor/sm1/reading', JSON.stringify({ value }), { qos: 1 });
      await sm2.publishAsync('sb/v1/itest/sensor/sm2/reading', JSON.stringify({ value }), { qos: 1 });
    };
    await smoke('alarm');
    await until('the fire alarm on siren1', () => got.some((m) => m.type === 'siren' && m.pattern === 'fire_alarm'));
    const fire = got.find((m) => m.pattern === 'fire_alarm');
    expect(fire).toMatchObject({ actuator: 'siren1', zone: 'b3', priority: 'alarm' });

    await smoke('normal');
    await until('the rain alarm again', () => got.filter((m) => m.type === 'siren' && m.pattern === 'air_raid_alarm').length === 2, 15_000);
    // Each pattern is stopped before the next starts: the siren is told one thing at a time.
    expect(said()).toEqual([
      'siren:air_raid_alarm:rg1/rain',
      'siren_off:preempted:',
      'siren:fire_alarm:b3/fire',
      'siren_off:cleared:',
      'siren:air_raid_alarm:rg1/rain',
    ]);
    expect(got[1].activity).toBe(got[0].activity); // the rain alarm's own stop
    expect(got[3].activity).toBe(fire.activity);
    expect(got.every((m) => m.actuator === 'siren1')).toBe(true);
    // The fire's all-clear is spoken, never sounded on a siren the rainstorm alarm still holds.
    await new Promise((r) => setTimeout(r, 300));
    expect(got.some((m) => m.pattern === 'all_clear')).toBe(false);
  }, 30_000);
});
