import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';

const site = (panelHw: string): string => `
site: { id: demo, name: 示范社区 }
sensors:
  - { id: rg1, kind: rain }
${panelHw}
`;
const problems = (yaml: string): string[] => parseConfig(yaml).problems.map(formatProblem);

describe('panel_hw config', () => {
  it('no panel_hw key is no physical panel', () => {
    expect(parseConfig(site('')).config!.panelHw).toBeNull();
  });

  it('a port alone is the standard Uno/Nano wiring at 57600 baud, 3 s hold, 50 ms debounce', () => {
    expect(parseConfig(site('panel_hw: { port: /dev/ttyUSB0 }')).config!.panelHw).toEqual({
      port: '/dev/ttyUSB0',
      baud: 57600,
      holdS: 3,
      debounceMs: 50,
      alarmCommonAnode: false,
      pins: { emergency: 2, silence: 4, ackAll: 7, drillKey: 8, buzzer: 5, ledFault: 6, ledAlarmRed: 9, ledAlarmGreen: 10, ledAlarmBlue: 11, ledUplink: 12, ledPower: 13, ledDrill: 14 },
    });
  });

  it('given pins are the whole wiring: a control not named is not wired', () => {
    const c = parseConfig(site('panel_hw: { port: /dev/ttyACM0, baud: 115200, hold_s: 0.5, debounce_ms: 10, alarm_common_anode: true, pins: { emergency: 3, led_power: 13 } }')).config!.panelHw!;
    expect(c).toMatchObject({ port: '/dev/ttyACM0', baud: 115200, holdS: 0.5, debounceMs: 10, alarmCommonAnode: true });
    expect(c.pins).toEqual({ emergency: 3, silence: null, ackAll: null, drillKey: null, ledPower: 13, ledUplink: null, ledAlarmRed: null, ledAlarmGreen: null, ledAlarmBlue: null, ledFault: null, ledDrill: null, buzzer: null });
  });

  it('needs a port', () => {
    expect(problems(site('panel_hw: { baud: 57600 }'))).toEqual([expect.stringMatching(/^panel_hw\.port: is required/)]);
  });

  it('refuses unknown keys, unknown pins and bad values, all at once, as path: message', () => {
    const p = problems(site('panel_hw: { port: /dev/x, baud: 12345, hold_s: 0, debounce_ms: 0.5, speed: 1, pins: { emergency: 2.5, siren: 3, silence: 200 } }'));
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^panel_hw\.baud: must be one of/),
        expect.stringMatching(/^panel_hw\.hold_s: /),
        expect.stringMatching(/^panel_hw\.debounce_ms: /),
        expect.stringMatching(/^panel_hw\.speed: unknown key/),
        expect.stringMatching(/^panel_hw\.pins\.emergency: must be integer/),
        expect.stringMatching(/^panel_hw\.pins\.siren: unknown key/),
        expect.stringMatching(/^panel_hw\.pins\.silence: must be <= 127/),
      ]),
    );
    expect(p).toHaveLength(8); // debounce_ms 0.5 is neither an integer nor >= 1: two problems
  });

  it('refuses an empty pins map (a panel with nothing wired)', () => {
    expect(problems(site('panel_hw: { port: /dev/x, pins: {} }'))).toEqual([expect.stringMatching(/^panel_hw\.pins: must NOT have fewer than 1 properties/)]);
  });

  it('refuses pins 0 and 1 (the serial line) and a pin used twice, saying which', () => {
    expect(problems(site('panel_hw: { port: /dev/x, pins: { emergency: 0, silence: 1, ack_all: 7, led_power: 7, buzzer: 7 } }'))).toEqual([
      expect.stringMatching(/^panel_hw\.pins\.emergency: pins 0 and 1 are the serial line StandardFirmata talks over/),
      expect.stringMatching(/^panel_hw\.pins\.silence: pins 0 and 1 are the serial line/),
      expect.stringMatching(/^panel_hw\.pins\.led_power: pin 7 is already panel_hw\.pins\.ack_all/),
      expect.stringMatching(/^panel_hw\.pins\.buzzer: pin 7 is already panel_hw\.pins\.ack_all/),
    ]);
  });
});
