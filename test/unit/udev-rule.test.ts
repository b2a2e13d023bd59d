/**
 * `shaobing udev-rule` (drivers/serial/udev-rule.ts): how each documented chip is keyed, from
 * the properties udevadm prints for it, and every refusal with its code. Whether udev applies
 * the lines as meant is test/integration/udev-rules.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseProperties, udevRule, UdevRuleError } from '../../drivers/serial/udev-rule.ts';
import { ADAPTERS } from '../helpers/udev-adapters.ts';


describe('udevRule', () => {
  it('FTDI: by its serial number and interface, in any port', () => {
    const r = udevRule('rs485-0', ADAPTERS.ftdi);
    expect(r.keyedBy).toBe('serial');
    expect(r.line).toBe('ACTION!="remove", SUBSYSTEM=="tty", ENV{ID_BUS}=="usb", ENV{ID_VENDOR_ID}=="0403", ENV{ID_SERIAL_SHORT}=="A50285BI", ENV{ID_USB_INTERFACE_NUM}=="00", SYMLINK+="shaobing/rs485-0"');
    expect(r.notes[0]).toBe('/dev/ttyUSB0: FTDI (0403:6001, FT232R_USB_UART)');
    expect(r.notes[1]).toContain('in any USB port');
  });

  it('CP210x: by serial when it has its own, by port when it carries the shared factory default', () => {
    expect(udevRule('rs485-1', ADAPTERS.cp2102).keyedBy).toBe('serial');
    const r = udevRule('rs485-1', ADAPTERS.cp2102Default);
    expect(r.keyedBy).toBe('port');
    expect(r.line).toBe('ACTION!="remove", SUBSYSTEM=="tty", ENV{ID_BUS}=="usb", ENV{ID_PATH}=="platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.4:1.0", SYMLINK+="shaobing/rs485-1"');
    expect(r.notes[1]).toContain('0001 is a factory default');
  });

  it('CH340: by port (the chip has no serial number), even if a clone reports one', () => {
    expect(udevRule('rs485-0', ADAPTERS.ch340).keyedBy).toBe('port');
    expect(udevRule('rs485-0', { ...ADAPTERS.ch340, ID_SERIAL_SHORT: '5&2b6f6b6c&0&1' }).keyedBy).toBe('port');
  });

  it('an unknown USB chip: by serial if it has one, else by port; --by-port forces the port', () => {
    const other = { ...ADAPTERS.ftdi, ID_VENDOR_ID: '067b', ID_MODEL_ID: '2303' };
    expect(udevRule('rs485-2', other).keyedBy).toBe('serial');
    expect(udevRule('rs485-2', { ...other, ID_SERIAL_SHORT: '' }).keyedBy).toBe('port');
    expect(udevRule('rs485-0', ADAPTERS.ftdi, { byPort: true }).keyedBy).toBe('port');
  });

  it('a value with characters udev would read as a glob or quote is escaped', () => {
    expect(udevRule('rs485-0', { ...ADAPTERS.ftdi, ID_SERIAL_SHORT: 'A1"*?[x]|' }).line).toContain('ENV{ID_SERIAL_SHORT}=="A1\\"\\*\\?\\[x\\]\\|"');
  });

  it('refuses a bad name, a device that is not USB, and a port-keyed device without ID_PATH, with codes', () => {
    const code = (f: () => unknown): string | null => {
      try {
        f();
        return null;
      } catch (e) {
        expect(e).toBeInstanceOf(UdevRuleError);
        return (e as UdevRuleError).code;
      }
    };
    for (const bad of ['', 'RS485', '../x', 'a b', 'x'.repeat(33)]) expect(code(() => udevRule(bad, ADAPTERS.ftdi))).toBe('bad_name');
    expect(code(() => udevRule('rs485-0', { DEVNAME: '/dev/ttyAMA0', ID_PATH: 'platform-fe201000.serial' }))).toBe('not_usb');
    expect(code(() => udevRule('rs485-0', { ...ADAPTERS.ch340, ID_PATH: '' }))).toBe('no_key');
  });
});

describe('parseProperties', () => {
  it('reads KEY=value lines, values may contain =', () => {
    expect(parseProperties('DEVNAME=/dev/ttyUSB0\nID_PATH=platform-x-usb-0:1.3:1.0\nX=a=b\n\nnot a line\n')).toEqual({ DEVNAME: '/dev/ttyUSB0', ID_PATH: 'platform-x-usb-0:1.3:1.0', X: 'a=b' });
  });
});
