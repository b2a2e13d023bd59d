/**
 * The RS-485 udev rules (hardware/udev/70-shaobing-rs485.rules) and the lines `shaobing
 * udev-rule` writes, through udev's own engine (`udevadm test`, udev 252 — bookworm's has no
 * `udevadm verify`), on a stand-in tty given each adapter's properties (test/helpers/
 * udev-test.ts says what that does and does not cover). The shipped file parses without a
 * complaint; its examples, uncommented, parse and name the adapter they describe; an FTDI keyed
 * by serial keeps its name in another port ("replugged elsewhere"), a CH340 keyed by port gives
 * the name to whatever is in that port and to nothing elsewhere; two adapters each get only
 * their own name.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { udevRule } from '../../drivers/serial/udev-rule.ts';
import { udevTest } from '../helpers/udev-test.ts';
import { ADAPTERS } from '../helpers/udev-adapters.ts';

const RULES = readFileSync(fileURLToPath(new URL('../../hardware/udev/70-shaobing-rs485.rules', import.meta.url)), 'utf8');
const PORT_14 = 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.4:1.0';
/** The device's own properties, without DEVNAME/ID_MODEL (udev sets DEVNAME itself). */
const props = (p: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'DEVNAME' && k !== 'ID_MODEL'));
const complaints = (lines: string[]): string[] => lines.filter((l) => !/^Reading rules file:|LINK '/.test(l) && !l.includes(': /run/udev/rules.d/69-'));

describe('udev rules for RS-485 adapters', () => {
  it('the shipped file parses without a complaint and names nothing by itself', () => {
    const r = udevTest(RULES, props(ADAPTERS.ftdi));
    expect(r.ruleLines).toContain('Reading rules file: /run/udev/rules.d/70-shaobing-rs485.rules');
    expect(complaints(r.ruleLines)).toEqual([]);
    expect(r.links).toEqual([]);
  });

  it("its examples, uncommented, parse and name the adapters they describe", () => {
    const examples = RULES.split('\n').filter((l) => l.startsWith('#ACTION')).map((l) => l.slice(1));
    expect(examples).toHaveLength(3);
    const rules = `${RULES}${examples.join('\n')}\n`;
    const ftdi = udevTest(rules, props(ADAPTERS.ftdi));
    expect(complaints(ftdi.ruleLines)).toEqual([]);
    // The FTDI example by serial, and the port example (port 1.3) too: both say rs485-0.
    expect(ftdi.links).toEqual(['/dev/shaobing/rs485-0']);
    expect(udevTest(rules, props(ADAPTERS.cp2102)).links).toEqual(['/dev/shaobing/rs485-0', '/dev/shaobing/rs485-1']);
    expect(udevTest(rules, { ...props(ADAPTERS.cp2102), ID_PATH: PORT_14 }).links).toEqual(['/dev/shaobing/rs485-1']);
  });

  it('an FTDI keyed by serial: the same name in another port; another FTDI gets nothing', () => {
    const rules = `${RULES}${udevRule('rs485-0', ADAPTERS.ftdi).line}\n`;
    expect(udevTest(rules, props(ADAPTERS.ftdi)).links).toEqual(['/dev/shaobing/rs485-0']);
    expect(udevTest(rules, { ...props(ADAPTERS.ftdi), ID_PATH: PORT_14 }).links).toEqual(['/dev/shaobing/rs485-0']);
    expect(udevTest(rules, { ...props(ADAPTERS.ftdi), ID_SERIAL_SHORT: 'FT9ZQX3B' }).links).toEqual([]);
    // The second port of a two-port chip with the same serial is another bus.
    expect(udevTest(rules, { ...props(ADAPTERS.ftdi), ID_USB_INTERFACE_NUM: '01' }).links).toEqual([]);
  });

  it('a CH340 keyed by port: any adapter in that port gets the name, none elsewhere', () => {
    const rules = `${RULES}${udevRule('rs485-0', ADAPTERS.ch340).line}\n`;
    expect(udevTest(rules, props(ADAPTERS.ch340)).links).toEqual(['/dev/shaobing/rs485-0']);
    expect(udevTest(rules, props(ADAPTERS.ftdi)).links).toEqual(['/dev/shaobing/rs485-0']); // same port 1.3
    expect(udevTest(rules, { ...props(ADAPTERS.ch340), ID_PATH: PORT_14 }).links).toEqual([]);
    // Not a USB device (a stand-in tty without the properties): nothing.
    expect(udevTest(rules, {}).links).toEqual([]);
  });

  it('two adapters, two lines: each gets only its own name', () => {
    const rules = `${RULES}${udevRule('rs485-0', ADAPTERS.ftdi).line}\n${udevRule('rs485-1', ADAPTERS.cp2102Default).line}\n`;
    expect(udevTest(rules, { ...props(ADAPTERS.ftdi), ID_PATH: 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.1:1.0' }).links).toEqual(['/dev/shaobing/rs485-0']);
    expect(udevTest(rules, props(ADAPTERS.cp2102Default)).links).toEqual(['/dev/shaobing/rs485-1']);
  });

  it('a line udev cannot parse is reported with its line number (the check above can fail)', () => {
    const r = udevTest(`${RULES}SUBSYSTEM=="tty", ENV{ID_BUS}=="usb", SYMLNK+="shaobing/typo"\n`, props(ADAPTERS.ftdi));
    expect(complaints(r.ruleLines).join('\n')).toMatch(/70-shaobing-rs485\.rules:\d+ Invalid key 'SYMLNK'/);
  });
});
