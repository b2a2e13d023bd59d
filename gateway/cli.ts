/**
 * Command-line entry: `shaobing <command> [options]`. Returns the exit code; never throws for
 * bad input (a bad config or CSV row is reported, not a stack trace).
 */
import { parseArgs } from 'node:util';
import type { SiteConfig } from './config/types.ts';
// Each command imports what it needs when it runs: `start` keeps the YAML parser, the schema
// compiler and the replay machinery out of the running box (config/isolated.ts).

const USAGE = `usage:
  shaobing start --config SITE.yaml   run the box for a real site
  shaobing demo                       the box with the demo site and simulated devices (npm start)
  shaobing replay --config SITE.yaml --readings READINGS.csv [--cap-dir DIR] [--observations]
  shaobing check-config FILE
  shaobing doctor --config SITE.yaml  checks the box on site: buses, ports, township, audio, clock, disk, log
  shaobing backup --config SITE.yaml --out FILE       a consistent copy of the log, also while the box runs
  shaobing export --config SITE.yaml [--since T] [--until T] [--format csv|jsonl] [--type …] [--zone Z] [--out FILE]
  shaobing restore --config SITE.yaml --from BACKUP   with the box stopped
  shaobing hash-secret                reads a secret on stdin, prints its scrypt hash for the config
  shaobing udev-rule NAME DEVICE [--by-port]   the udev line naming a plugged RS-485 adapter /dev/shaobing/NAME
  shaobing audio add NAME FILE --config SITE.yaml
                                      checks a WAV recording and stores it for broadcast template NAME`;

type Io = { out: (s: string) => void; err: (s: string) => void; write?: (s: string) => void | Promise<void> };
const stdio: Io = {
  out: (s) => process.stdout.write(`${s}\n`),
  err: (s) => process.stderr.write(`${s}\n`),
  // A stream to stdout (an export) waits for a full pipe to drain rather than fill memory.
  write: (s) => (process.stdout.write(s) ? undefined : new Promise((r) => process.stdout.once('drain', r))),
};

/** Runs a data command (backup, export, restore): a bad argument is its message and the usage, exit 2. */
async function dataCommand(run: (args: string[], io: Io) => Promise<number>, usage: string, args: string[], io: Io): Promise<number> {
  try {
    return await run(args, io);
  } catch (e) {
    if ((e as { code?: string }).code === 'usage' || e instanceof TypeError) {
      io.err((e as Error).message);
      io.err(usage);
      return 2;
    }
    throw e;
  }
}

async function readConfig(file: string, io: Io): Promise<SiteConfig | null> {
  const { checkConfigFile, problemLines } = await import('./config/load.ts');
  let checked: ReturnType<typeof checkConfigFile>;
  try {
    checked = checkConfigFile(file);
  } catch (e) {
    io.err(`${file}: cannot read: ${(e as Error).message}`);
    return null;
  }
  for (const line of problemLines(file, checked.problems)) io.err(line);
  return checked.config;
}

async function replayCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, readings: { type: 'string' }, 'cap-dir': { type: 'string' }, observations: { type: 'boolean' } } });
  if (!values.config || !values.readings) {
    io.err(USAGE);
    return 2;
  }
  const config = await readConfig(values.config, io);
  if (!config) return 1;
  const { replay } = await import('./replay/replay.ts');
  const { CsvRowError } = await import('./replay/csv-parser.ts');
  try {
    const s = await replay({ config, readings: values.readings, capDir: values['cap-dir'], observations: values.observations, write: io.out, error: io.err });
    io.err(`replayed ${s.rows} rows: ${s.transitions} alert transitions, ${s.effects} effects${s.capFiles ? `, ${s.capFiles} CAP files` : ''}${s.badRows ? `; ${s.badRows} bad rows skipped` : ''}`);
    return s.badRows ? 3 : 0;
  } catch (e) {
    if (e instanceof CsvRowError) io.err(`${values.readings}:${e.message}`);
    else io.err(`${values.readings}: ${(e as Error).message}`);
    return 1;
  }
}

/** `audio add NAME FILE --config SITE.yaml` (recordings/add.ts): 0 stored, 1 refused, 2 usage. */
async function audioCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string' } } });
  const [sub, name, file, ...extra] = positionals;
  if (sub !== 'add' || !name || !file || extra.length || !values.config) {
    io.err(USAGE);
    if (sub === 'add' && name && file && !values.config) io.err('audio add needs --config SITE.yaml: the site config says where its audio folder is and which templates it has');
    return 2;
  }
  const config = await readConfig(values.config, io);
  if (!config) return 1;
  const { addRecording, configHint, describeWav, RecordingError } = await import('./recordings/add.ts');
  try {
    const s = addRecording(config, name, file);
    io.out(`stored ${name}: ${s.path} (${describeWav(s.info)})${s.previous ? `; the one before is ${s.previous}` : ''}`);
    const hint = configHint(config, name, s.path);
    if (hint) io.out(hint);
    return 0;
  } catch (e) {
    if (!(e instanceof RecordingError)) throw e;
    io.err(`${file}: refused (${e.code}): ${e.message}`);
    return 1;
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('secret (then Enter, Ctrl-D): ');
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

/** `udev-rule NAME DEVICE`: reads the device's properties with udevadm, prints the rule line (notes on stderr). */
async function udevRuleCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'by-port': { type: 'boolean' } } });
  const [name, device] = positionals;
  if (!name || !device || positionals.length > 2) {
    io.err(USAGE);
    return 2;
  }
  const { spawnSync } = await import('node:child_process');
  const { parseProperties, udevRule, UdevRuleError } = await import('../drivers/serial/udev-rule.ts');
  const info = spawnSync('udevadm', ['info', '--query=property', `--name=${device}`], { encoding: 'utf8' });
  if (info.error || info.status !== 0) {
    io.err(`${device}: udevadm info failed: ${info.error?.message ?? info.stderr.trim()}`);
    return 1;
  }
  try {
    const rule = udevRule(name, parseProperties(info.stdout), { byPort: values['by-port'] });
    for (const n of rule.notes) io.err(`# ${n}`);
    io.err('# add it:  ... | sudo tee -a /etc/udev/rules.d/70-shaobing-rs485.rules; then sudo udevadm control --reload-rules && sudo udevadm trigger --subsystem-match=tty');
    io.out(rule.line);
    return 0;
  } catch (e) {
    if (e instanceof UdevRuleError) {
      io.err(e.message);
      return 1;
    }
    throw e;
  }
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'replay':
        return await replayCommand(rest, io);
      case 'check-config': {
        if (!rest[0]) {
          io.err(USAGE);
          return 2;
        }
        const config = await readConfig(rest[0], io);
        if (!config) return 1;
        io.out(`${rest[0]}: ok (site ${config.site.id}, ${config.sensors.length} sensors, ${config.zones.length} zones)`);
        return 0;
      }
      case 'demo':
      case 'start': {
        const { runBox } = await import('./run.ts');
        return await runBox(command, rest, io);
      }
      case 'audio':
        return await audioCommand(rest, io);
      case 'doctor': {
        const { doctorCommand } = await import('./doctor/command.ts');
        return await doctorCommand(rest, io);
      }
      case 'backup': {
        const { backupCommand, BACKUP_USAGE } = await import('./backup/backup-command.ts');
        return await dataCommand(backupCommand, BACKUP_USAGE, rest, io);
      }
      case 'export': {
        const { exportCommand, EXPORT_USAGE } = await import('./backup/export.ts');
        return await dataCommand(exportCommand, EXPORT_USAGE, rest, io);
      }
      case 'restore': {
        const { restoreCommand, RESTORE_USAGE } = await import('./backup/restore.ts');
        return await dataCommand(restoreCommand, RESTORE_USAGE, rest, io);
      }
      case 'hash-secret': {
        const { hashSecret } = await import('./shell/secrets.ts');
        const secret = (await readStdin()).replace(/\r?\n$/, '');
        io.out(await hashSecret(secret));
        return 0;
      }
      case 'udev-rule':
        return await udevRuleCommand(rest, io);
      default:
        io.err(USAGE);
        return 2;
    }
  } catch (e) {
    // parseArgs rejects unknown options with a TypeError whose message says which.
    io.err((e as Error).message);
    return 2;
  }
}
