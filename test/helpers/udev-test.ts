/**
 * udev's own rules engine on a stand-in device, without touching the machine: `udevadm test`
 * runs in a private mount namespace (unshare -m) with tmpfs over /run (the rules under test
 * go into /run/udev/rules.d) and over /dev (the links udevadm creates land there and vanish with
 * the namespace). The device is /sys/class/tty/tty0, a tty every Linux has; a rules file that
 * runs before ours (69-) gives it the properties a real adapter's usb_id and path_id would
 * (ID_BUS, ID_VENDOR_ID, ID_SERIAL_SHORT, ID_PATH, …), so what is tested is how udev applies
 * our lines to those properties. What is not: the kernel and usb_id finding a real adapter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface UdevRun {
  /** DEVLINKS udev gave the device (e.g. /dev/shaobing/rs485-0). */
  links: string[];
  /** Lines of udevadm's output that name the rules under test (parse errors say "Invalid"…). */
  ruleLines: string[];
  output: string;
}

export function udevTest(rules: string, props: Record<string, string>, file = '70-shaobing-rs485.rules'): UdevRun {
  const dir = mkdtempSync(join(tmpdir(), 'sb-udev-'));
  try {
    writeFileSync(join(dir, file), rules);
    const fake = Object.entries(props).map(([k, v]) => `ENV{${k}}="${v}"`).join(', ');
    writeFileSync(join(dir, '69-shaobing-test-device.rules'), fake ? `SUBSYSTEM=="tty", KERNEL=="tty0", ${fake}\n` : '\n');
    const script = `set -e
mount -t tmpfs none /run
mkdir -p /run/udev/rules.d "${dir}/realdev"
cp "${dir}"/*.rules /run/udev/rules.d/
mount --bind /dev "${dir}/realdev"
mount -t tmpfs none /dev
touch /dev/null /dev/tty0
mount --bind "${dir}/realdev/null" /dev/null
udevadm test --action=add /sys/class/tty/tty0 2>&1`;
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`udevadm test failed (${r.status}): ${r.stderr}${r.stdout}`);
    const output = r.stdout;
    const devlinks = /^DEVLINKS=(.*)$/m.exec(output)?.[1] ?? '';
    return {
      links: devlinks.split(' ').filter((l) => l.startsWith('/dev/shaobing/')).sort(),
      ruleLines: output.split('\n').filter((l) => l.includes(file) || l.includes('69-shaobing-test-device')),
      output,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
