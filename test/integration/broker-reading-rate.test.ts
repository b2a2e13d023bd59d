// People's clients get raw readings at most once per sensor per interval, and always the latest
// (reading-rate.ts); the box itself takes every reading.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { BrokerRig, Inbox, T, brokerSite, publish1, subscribeCode, until } from '../helpers/broker-rig.ts';

const INTERVAL_MS = 2000;
let config: SiteConfig;
let rig: BrokerRig | undefined;

beforeAll(async () => {
  config = await brokerSite();
});

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const values = (inbox: Inbox, sensor: string): number[] => inbox.on(T.sensorReading(sensor)).map((m) => (JSON.parse(m.text) as { value: number }).value);

describe('raw readings to people', () => {
  it('reach an officer and the township once per sensor per interval, the latest last; the box gets them all', async () => {
    rig = await BrokerRig.start(config, { peopleReadingIntervalMs: INTERVAL_MS });
    const li = await rig.connect('li');
    const zhen = await rig.connect('zhen');
    const liIn = new Inbox(li);
    const zhenIn = new Inbox(zhen);
    expect(await subscribeCode(li, T.all(), 1)).toBe(1);
    expect(await subscribeCode(zhen, `sb/v1/t1/sensor/+/reading`, 0)).toBe(0);
    const rg1 = await rig.connect('rg1');
    const wl1 = await rig.connect('wl1');
    const started = Date.now();
    for (let i = 0; i < 50; i++) {
      await publish1(rg1, T.sensorReading('rg1'), JSON.stringify({ value: i }));
      await publish1(wl1, T.sensorReading('wl1'), JSON.stringify({ value: i / 10 }));
    }
    const elapsed = Date.now() - started;
    expect(rig.readings.length).toBe(100);
    for (const inbox of [liIn, zhenIn]) {
      await until(() => values(inbox, 'rg1').at(-1) === 49 && values(inbox, 'wl1').at(-1) === 4.9, 'the latest readings', INTERVAL_MS * 3);
      // One when each window opens, plus the latest when the last one closes.
      const most = Math.floor(elapsed / INTERVAL_MS) + 2;
      for (const [sensor, first] of [['rg1', 0], ['wl1', 0]] as const) {
        const got = values(inbox, sensor);
        expect(got[0]).toBe(first);
        expect(got.length).toBeLessThanOrEqual(most);
        expect(got).toEqual([...got].sort((a, b) => a - b));
      }
    }
  });

  it('do not hold back the next reading of a sensor once its interval has passed', async () => {
    rig = await BrokerRig.start(config, { peopleReadingIntervalMs: 200 });
    const li = await rig.connect('li');
    const inbox = new Inbox(li);
    expect(await subscribeCode(li, T.sensorReading('rg1'), 0)).toBe(0);
    const rg1 = await rig.connect('rg1');
    await publish1(rg1, T.sensorReading('rg1'), JSON.stringify({ value: 1 }));
    await until(() => values(inbox, 'rg1').length === 1, 'the first reading');
    await new Promise((r) => setTimeout(r, 400));
    await publish1(rg1, T.sensorReading('rg1'), JSON.stringify({ value: 2 }));
    await until(() => values(inbox, 'rg1').length === 2, 'the second reading');
    expect(values(inbox, 'rg1')).toEqual([1, 2]);
  });
});
