/**
 * `shaobing udev-rule NAME DEVICE`: the udev line that gives a plugged USB RS-485 adapter a
 * stable name, /dev/shaobing/NAME (hardware/udev/70-shaobing-rs485.rules). Pure: it reads the
 * properties `udevadm info --query=property` printed for the device, and decides how to key
 * the name, by chip:
 *  - FTDI (0403): by serial number; each chip has its own, programmed at the factory.
 *  - CP210x (10c4): by serial number, unless it is a factory default that many boards share
 *    (0001): two adapters with one serial would fight over one name, so by port instead.
 *  - CH340/CH341 (1a86): by port path; the chip has no serial number.
 *  - any other USB serial chip: by serial number if it has one, else by port.
 */

export type UdevRuleErrorCode = 'bad_name' | 'not_usb' | 'no_key';

export class UdevRuleError extends Error {
  constructor(
    readonly code: UdevRuleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UdevRuleError';
  }
}

/** USB vendor ids of the adapters documented in the rules file. */
const CHIPS: Record<string, { name: string; serial: 'unique' | 'maybe' | 'none' }> = {
  '0403': { name: 'FTDI', serial: 'unique' },
  '10c4': { name: 'Silicon Labs CP210x', serial: 'maybe' },
  '1a86': { name: 'WCH CH340/CH341', serial: 'none' },
};

/** Serial numbers that many boards carry alike (factory defaults of cheap CP210x and clones). */
const SHARED_SERIALS = new Set(['0', '00', '0000', '0001', '00000000', '00000001', '0123456789', '1234567890']);

export interface UdevRule {
  /** The rule line to add to the rules file. */
  line: string;
  keyedBy: 'serial' | 'port';
  /** What the technician should know (which chip, why this key, what it means for replugging). */
  notes: string[];
}

/** Parses `udevadm info --query=property` output (KEY=value lines). */
export function parseProperties(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) props[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return props;
}

// udev's values are matched literally here; these are the characters a property may hold that
// would end or change the quoted pattern (`"`), or be a glob (`*?[]|`).
const quote = (v: string): string => v.replace(/[\\"*?[\]|]/g, (c) => `\\${c}`);

export function udevRule(name: string, props: Record<string, string>, opts: { byPort?: boolean } = {}): UdevRule {
  if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(name)) throw new UdevRuleError('bad_name', `name: must be lowercase letters, digits, - and _ (like rs485-0), not ${JSON.stringify(name)}`);
  const dev = props.DEVNAME ?? 'the device';
  if (props.ID_BUS !== 'usb') throw new UdevRuleError('not_usb', `${dev}: not a USB serial adapter (ID_BUS=${props.ID_BUS ?? 'none'}); a UART on the Pi's header already has a stable name (/dev/ttyAMA0, /dev/serial0)`);
  const vendor = (props.ID_VENDOR_ID ?? '').toLowerCase();
  const chip = CHIPS[vendor];
  const serial = props.ID_SERIAL_SHORT ?? '';
  const iface = props.ID_USB_INTERFACE_NUM || '00';
  const notes = [`${dev}: ${chip?.name ?? `USB vendor ${vendor || '?'}`} (${vendor}:${props.ID_MODEL_ID ?? '?'}${props.ID_MODEL ? `, ${props.ID_MODEL}` : ''})`];
  const head = `ACTION!="remove", SUBSYSTEM=="tty", ENV{ID_BUS}=="usb"`;
  const link = `SYMLINK+="shaobing/${name}"`;
  let why: string | null = null;
  if (opts.byPort) why = 'asked for by port';
  else if (chip?.serial === 'none') why = 'this chip has no serial number';
  else if (!serial) why = 'this adapter reports no serial number';
  else if (SHARED_SERIALS.has(serial)) why = `its serial number ${serial} is a factory default that other boards share`;
  if (why === null) {
    notes.push(`keyed by its serial number ${serial}: it keeps the name /dev/shaobing/${name} in any USB port`);
    return { line: `${head}, ENV{ID_VENDOR_ID}=="${quote(vendor)}", ENV{ID_SERIAL_SHORT}=="${quote(serial)}", ENV{ID_USB_INTERFACE_NUM}=="${quote(iface)}", ${link}`, keyedBy: 'serial', notes };
  }
  const path = props.ID_PATH;
  if (!path) throw new UdevRuleError('no_key', `${dev}: keyed by port (${why}), but udev gave no ID_PATH for it`);
  notes.push(`keyed by its USB port (${why}): /dev/shaobing/${name} is whatever adapter is plugged into that port; label the port`);
  return { line: `${head}, ENV{ID_PATH}=="${quote(path)}", ${link}`, keyedBy: 'port', notes };
}
