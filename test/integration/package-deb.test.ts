/**
 * The Debian package (issue 19), built by `npm run package` once for this file (about 15 s
 * here: tsc, the addon, staging, zstd) and installed on this machine for real, as root: dpkg -i,
 * the box run exactly as the unit's ExecStart says (as the shaobing user, with its supplementary
 * groups, systemd's notify socket played by a listener), dpkg -r (the log stays), dpkg --purge
 * (it goes), and a second install and purge. No systemd runs here (PID 1 is not systemd), so the
 * unit is checked with `systemd-analyze verify` and `security --offline`, not started.
 *
 * It cleans up after itself even when a step fails: afterAll purges the package and deletes the
 * shaobing user if this file made it; beforeAll purges one left by a run that was killed (and
 * deletes its user at the end too). It would purge a real install as well: run it on test
 * machines only.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAddon, notifyListener, type NotifyListener } from '../helpers/notify-listener.ts';
import { until } from '../helpers/until.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const ARCH = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim();
const out = mkdtempSync(join(tmpdir(), 'sb-deb-'));
const deb = join(out, `shaobing_${VERSION}_${ARCH}.deb`);
const listeners: NotifyListener[] = [];
let userExisted = true;
let buildSeconds = 0;

const sh = (cmd: string, args: string[], opts: { input?: string } = {}): SpawnSyncReturns<string> => spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, maxBuffer: 256 << 20, ...opts });
const installed = (): boolean => /^install ok installed$/m.test(sh('dpkg-query', ['-W', '-f=${Status}\n', 'shaobing']).stdout);
const status = (): string => sh('dpkg-query', ['-W', '-f=${Status}', 'shaobing']).stdout;

/**
 * dpkg, waiting while another process holds its lock (other helpers' apt-get runs on this
 * machine); any other failure is returned as it is.
 */
async function dpkg(...args: string[]): Promise<SpawnSyncReturns<string>> {
  const end = Date.now() + 300_000;
  for (;;) {
    const r = sh('dpkg', args);
    if (r.status === 0 || !/lock/i.test(r.stderr) || Date.now() > end) return r;
    await new Promise((res) => setTimeout(res, 2000));
  }
}

async function purge(): Promise<void> {
  if (status()) await dpkg('--purge', 'shaobing');
}

beforeAll(async () => {
  expect(process.getuid?.(), 'this test installs a package: run it as root (CI does)').toBe(0);
  // A package left installed is a run that was killed (this is a test machine): purged, and
  // its user counts as this file's, to delete at the end.
  const leftover = status() !== '';
  await purge();
  userExisted = !leftover && sh('getent', ['passwd', 'shaobing']).status === 0;
  buildAddon();
  const t0 = Date.now();
  const r = sh(process.execPath, [join(ROOT, 'scripts/package.mjs'), '--out', out]);
  buildSeconds = (Date.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`npm run package failed: ${r.stderr}`);
  console.log(`${r.stdout.trim()} (${buildSeconds.toFixed(1)} s in all)`);
}, 600_000);

afterAll(async () => {
  for (const l of listeners) l.close();
  await purge();
  if (!userExisted && sh('getent', ['passwd', 'shaobing']).status === 0) {
    sh('deluser', ['--quiet', '--system', 'shaobing']);
    sh('delgroup', ['--quiet', '--system', 'shaobing']);
  }
  rmSync(out, { recursive: true, force: true });
}, 600_000);

describe('the .deb', () => {
  it('is shaobing_<version>_<arch>.deb with runtime Depends and the conffiles', () => {
    expect(existsSync(deb)).toBe(true);
    const field = (f: string): string => sh('dpkg-deb', ['-f', deb, f]).stdout.trim();
    expect(field('Package')).toBe('shaobing');
    expect(field('Version')).toBe(VERSION);
    expect(field('Architecture')).toBe(ARCH);
    // The shipped node and the native modules' libraries (dpkg-shlibdeps), and the broadcasts'.
    expect(field('Depends')).toMatch(/^libc6 \(>= [\d.]+\), .*libstdc\+\+6.*, adduser, espeak-ng, alsa-utils, sox$/);
    expect(field('Depends')).not.toMatch(/nodejs/);
    const conffiles = sh('sh', ['-c', `dpkg-deb --ctrl-tarfile '${deb}' | tar -xO ./conffiles`]).stdout;
    expect(conffiles.trim().split('\n').sort()).toEqual(['/etc/modules-load.d/shaobing.conf', '/etc/shaobing/site.yaml', '/etc/systemd/journald.conf.d/shaobing.conf', '/etc/udev/rules.d/70-shaobing-rs485.rules']);
  });

  it('holds the compiled box, its node, the production node_modules only, and no build leftovers', () => {
    const files = sh('sh', ['-c', `dpkg-deb --fsys-tarfile '${deb}' | tar -t`]).stdout.split('\n');
    const has = (p: string): boolean => files.includes(p);
    for (const p of ['./opt/shaobing/node/bin/node', './opt/shaobing/node/LICENSE', './opt/shaobing/bin/shaobing.mjs', './opt/shaobing/dist/gateway/cli.js', './opt/shaobing/dist/native/sd-notify.node', './opt/shaobing/dist/hardware/profiles/qdy30a.yaml', './opt/shaobing/node_modules/better-sqlite3/build/Release/better_sqlite3.node', './opt/shaobing/node_modules/aedes/package.json', './usr/bin/shaobing', './lib/systemd/system/shaobing.service', './etc/shaobing/site.yaml', './usr/share/doc/shaobing/install.md']) {
      expect(has(p), p).toBe(true);
    }
    // Dev dependencies, the TypeScript loader, install-time helpers, sources and objects stay out.
    for (const dir of ['vitest', 'typescript', 'tsx', 'esbuild', 'playwright-core', 'prebuild-install', '@types']) expect(files.some((f) => f.startsWith(`./opt/shaobing/node_modules/${dir}/`)), dir).toBe(false);
    expect(files.filter((f) => f.endsWith('.map') || f.includes('/obj.target/') || f.includes('better-sqlite3/deps/') || f.endsWith('.musl.node'))).toEqual([]);
    expect(files.filter((f) => f.includes('/prebuilds/') && !f.includes(`/prebuilds/linux-${process.arch}`) && !f.endsWith('/prebuilds/'))).toEqual([]);
    // Not in the package: dpkg -r would remove it with the program.
    expect(files.some((f) => f.startsWith('./var/lib/shaobing'))).toBe(false);
  });
});

describe('installed with dpkg', () => {
  it('dpkg -i installs it: user in dialout and audio, state directory, config readable by the service only', async () => {
    const r = await dpkg('-i', deb);
    expect(r.status, r.stderr).toBe(0);
    expect(installed()).toBe(true);
    const groups = sh('id', ['-nG', 'shaobing']).stdout.trim().split(' ');
    expect(groups).toEqual(expect.arrayContaining(['shaobing', 'dialout', 'audio']));
    expect(sh('getent', ['passwd', 'shaobing']).stdout).toMatch(/:\/var\/lib\/shaobing:\/usr\/sbin\/nologin$/m);
    const stat = (p: string): string => sh('stat', ['-c', '%U:%G %a', p]).stdout.trim();
    expect(stat('/var/lib/shaobing')).toBe('shaobing:shaobing 750');
    expect(stat('/var/lib/shaobing/audio')).toBe('shaobing:shaobing 750');
    expect(stat('/etc/shaobing/site.yaml')).toBe('root:shaobing 640');
    expect(stat('/opt/shaobing/node/bin/node')).toBe('root:root 755');
    // Enabled as dh_installsystemd would (started at boot).
    expect(existsSync('/etc/systemd/system/multi-user.target.wants/shaobing.service')).toBe(true);
  });

  it('shaobing check-config /etc/shaobing/site.yaml passes, as root and as the service user', () => {
    const r = sh('shaobing', ['check-config', '/etc/shaobing/site.yaml']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/etc/shaobing/site.yaml: ok (site example-village, 2 sensors, 2 zones)\n');
    expect(r.status).toBe(0);
    expect(sh('setpriv', ['--reuid=shaobing', '--regid=shaobing', '--init-groups', '--', 'shaobing', 'check-config', '/etc/shaobing/site.yaml']).status).toBe(0);
    expect(sh('shaobing', ['hash-secret'], { input: 'a-secret\n' }).stdout).toMatch(/^scrypt\$16384\$8\$1\$\S+\n$/);
    // A broken config is refused with its path and a non-zero code, from the installed command too.
    const bad = join(out, 'bad.yaml');
    writeFileSync(bad, 'site: { id: Bad Id }\nsensors: []\n');
    const b = sh('shaobing', ['check-config', bad]);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/site\.id: /);
  });

  it('the installed unit passes systemd-analyze verify with nothing to say, and its exposure is low', () => {
    const r = sh('systemd-analyze', ['verify', '/lib/systemd/system/shaobing.service']);
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
    // The check can fail: a misspelt key and a bad time are reported (verify still exits 0).
    const unit = readFileSync('/lib/systemd/system/shaobing.service', 'utf8');
    const broken = join(out, 'broken.service');
    writeFileSync(broken, unit.replace('ProtectHome=yes', 'ProtectHomee=yes').replace('WatchdogSec=30s', 'WatchdogSec=thirty'));
    const b = sh('systemd-analyze', ['verify', broken]);
    expect(b.stderr).toContain("Unknown key 'ProtectHomee'");
    expect(b.stderr).toContain('Failed to parse sec value');
    const sec = sh('systemd-analyze', ['security', '--offline=yes', '/lib/systemd/system/shaobing.service']);
    const exposure = Number(/Overall exposure level for shaobing\.service: ([\d.]+)/.exec(sec.stdout + sec.stderr)?.[1]);
    expect(exposure).toBeLessThanOrEqual(3.5);
    for (const line of ['Type=notify', 'WatchdogSec=30s', 'Restart=always', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/shaobing', 'NoNewPrivileges=yes', 'PrivateTmp=yes', 'DevicePolicy=closed', 'DeviceAllow=char-ttyUSB rw', 'DeviceAllow=char-alsa rw', 'StandardOutput=journal', 'StartLimitIntervalSec=0']) {
      expect(unit.split('\n'), line).toContain(line);
    }
  });

  it('runs as its unit says: the shaobing user, the ExecStart line, READY=1 and WATCHDOG=1 from its PID, the log in /var/lib/shaobing', async () => {
    const unit = readFileSync('/lib/systemd/system/shaobing.service', 'utf8');
    const values = (key: string): string[] => unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
    const [exe, ...args] = values('ExecStart')[0]!.split(' ');
    const env = Object.fromEntries(values('Environment').map((e) => e.split('=') as [string, string]));
    expect(args.at(-1)).toBe('/etc/shaobing/site.yaml');
    // The example's fixed ports would collide with other tests on this machine: the same
    // command line on a test site with ephemeral ports, in a file the service user can read.
    const siteDir = mkdtempSync(join(tmpdir(), 'sb-deb-site-'));
    chmodSync(siteDir, 0o755);
    const site = join(siteDir, 'site.yaml');
    // Every lazily loaded part is loaded: an RTU bus (modbus-serial, serialport; its adapter is
    // absent, so it is retried), the panel (fastify), the uplink (mqtt; nobody listens).
    writeFileSync(
      site,
      `site: { id: debtest, name: 包测试 }
buses:
  - { id: rs485-0, type: rtu, path: /dev/shaobing/rs485-0 }
sensors:
  - { id: rg1, kind: rain, modbus: { bus: rs485-0, unit: 2, profile: xunchip-xm9505 } }
actuators:
  - { id: siren1, kind: siren, zones: [site], modbus: { bus: rs485-0, unit: 1, profile: waveshare-modbus-rtu-relay } }
mqtt: { host: 127.0.0.1, port: 0, ws_port: 0 }
panel: { host: 127.0.0.1, port: 0 }
uplink: { url: 'mqtt://127.0.0.1:1' }
store: { path: /var/lib/shaobing/events.db }
`,
    );
    chmodSync(site, 0o644);
    const l = await notifyListener(true); // abstract: the service user can reach it
    listeners.push(l);
    const child = spawn('setpriv', ['--reuid=shaobing', '--regid=shaobing', '--init-groups', '--', exe!, ...args.slice(0, -1), site], {
      cwd: values('WorkingDirectory')[0],
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { PATH: '/usr/bin:/bin', ...env, NOTIFY_SOCKET: l.socket, WATCHDOG_USEC: '2000000' },
    });
    const modules: string[] = [];
    let panelPort = 0;
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, nl)) as { msg?: string; module?: string; port?: number };
        buf = buf.slice(nl + 1);
        if (line.msg === 'module started' && line.module) modules.push(line.module);
        if (line.msg === 'panel API listening' && line.port) panelPort = line.port;
      }
    });
    try {
      const pid = child.pid!; // setpriv execs node: the same PID
      await until('READY=1 from the installed box', () => l.count(pid, 'READY=1') === 1 || child.exitCode !== null, 120_000);
      expect(child.exitCode).toBeNull();
      await until('two pings', () => l.count(pid, 'WATCHDOG=1') >= 2, 60_000);
      const uid = Number(sh('id', ['-u', 'shaobing']).stdout);
      expect(l.received.filter((n) => n.pid === pid).every((n) => n.uid === uid)).toBe(true);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe('/opt/shaobing/node/bin/node');
      expect(sh('stat', ['-c', '%U', '/var/lib/shaobing/events.db']).stdout.trim()).toBe('shaobing');
      expect(modules).toEqual(expect.arrayContaining(['store', 'broker', 'engine', 'field-buses', 'panel', 'uplink']));
      // The installed box serves the panel page it was packaged with (build/panel/), not the 503
      // of a box whose page was never built.
      const page = await fetch(`http://127.0.0.1:${panelPort}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<script[^>]+src="[^"]*main-[A-Z0-9]+\.js"/);
      child.kill('SIGTERM');
      await until('STOPPING=1', () => l.count(pid, 'STOPPING=1') === 1, 30_000);
      const code = child.exitCode ?? (await new Promise((r) => child.once('exit', r)));
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(siteDir, { recursive: true, force: true });
    }
  });

  it('dpkg -r removes the program but keeps the event log and the config', async () => {
    const r = await dpkg('-r', 'shaobing');
    expect(r.status, r.stderr).toBe(0);
    expect(status()).toBe('deinstall ok config-files');
    for (const gone of ['/opt/shaobing', '/usr/bin/shaobing', '/lib/systemd/system/shaobing.service']) expect(existsSync(gone), gone).toBe(false);
    expect(statSync('/var/lib/shaobing/events.db').size).toBeGreaterThan(0);
    expect(existsSync('/etc/shaobing/site.yaml')).toBe(true);
    expect(existsSync('/etc/udev/rules.d/70-shaobing-rs485.rules')).toBe(true);
  });

  it('dpkg --purge removes the log, the config and the statoverride; a second install and purge work the same', async () => {
    const r = await dpkg('--purge', 'shaobing');
    expect(r.status, r.stderr).toBe(0);
    expect(status()).toBe('');
    for (const gone of ['/var/lib/shaobing', '/etc/shaobing', '/etc/udev/rules.d/70-shaobing-rs485.rules', '/etc/systemd/journald.conf.d/shaobing.conf', '/etc/systemd/system/multi-user.target.wants/shaobing.service']) {
      expect(existsSync(gone), gone).toBe(false);
    }
    expect(sh('dpkg-statoverride', ['--list', '/etc/shaobing/site.yaml']).status).not.toBe(0);
    // The system user stays (Debian's practice); installing again reuses it.
    expect(sh('getent', ['passwd', 'shaobing']).status).toBe(0);
    expect((await dpkg('-i', deb)).status).toBe(0);
    expect(sh('shaobing', ['check-config', '/etc/shaobing/site.yaml']).status).toBe(0);
    expect(sh('stat', ['-c', '%U:%G %a', '/var/lib/shaobing']).stdout.trim()).toBe('shaobing:shaobing 750');
    expect((await dpkg('--purge', 'shaobing')).status).toBe(0);
    expect(existsSync('/var/lib/shaobing')).toBe(false);
    expect(buildSeconds).toBeGreaterThan(0);
  });
});
