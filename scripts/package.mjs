#!/usr/bin/env node
// `npm run package [-- --out DIR] [--compress zstd|xz|gzip|none] [--skip-build]`: builds the
// Debian package shaobing_<version>_<arch>.deb (in dist/deb/) with dpkg-deb (Debian's own tool;
// no npm packager: those wrap dpkg-deb or fpm and add nothing we need). zstd by default: 1 s
// against xz's 95 s here, 42 MB against 30; dpkg reads it since 1.21.18 (bookworm, Raspberry
// Pi OS bookworm). `--compress xz` for an older dpkg.
//
// What it holds (hardware/docs/install.md says how it is used):
//   /opt/shaobing/         the compiled box (dist/), bin/shaobing.mjs, package.json, the
//                          production node_modules, and node/bin/node
//   /usr/bin/shaobing      the command (hardware/debian/shaobing)
//   /lib/systemd/system/shaobing.service, /etc/systemd/journald.conf.d/shaobing.conf,
//   /etc/modules-load.d/shaobing.conf, /etc/udev/rules.d/70-shaobing-rs485.rules,
//   /etc/shaobing/site.yaml (an example), /usr/share/doc/shaobing/
//
// Node is shipped in the package, not depended on: Debian bookworm's nodejs is 18 (the box
// needs 20), NodeSource's needs a repository and network the village box may never have, and an
// apt upgrade to another Node major would leave better-sqlite3 built for the wrong ABI: a
// dead box. The node shipped is the one running this script, the one the native modules in
// node_modules were built against. So the package is for the architecture it is built on:
// build an arm64 package on an arm64 machine (a Raspberry Pi 4/5 on 64-bit Raspberry Pi OS, or
// an arm64 Debian VM): `npm ci && npm run package`. Every ELF file is checked against the
// package's architecture before anything is written.
//
// node_modules: copied from this checkout's (never installed anew: offline, and the native
// modules already built), the production dependencies only, found by walking
// node_modules/.package-lock.json from package.json's dependencies with Node's resolution
// rule. Left out: tsx (the package runs dist/, SHAOBING_DIST=1), prebuild-install (an
// install-time helper of better-sqlite3 that nothing requires at run time), @types/* (type
// declarations some dependencies list as dependencies; never loaded); native build
// leftovers (object files, C sources) and prebuilt binaries for other platforms.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({ options: { out: { type: 'string' }, compress: { type: 'string' }, 'skip-build': { type: 'boolean' } } });
const outDir = resolve(opt.out ?? join(root, 'dist/deb'));
const compress = opt.compress ?? 'zstd';
if (!['xz', 'gzip', 'zstd', 'none'].includes(compress)) fail(`--compress must be xz, gzip, zstd or none, not ${compress}`);

/** Left out of node_modules, with why (see the header). */
const EXCLUDE = new Set(['tsx', 'prebuild-install']);
/** Debian architecture → Node's process.arch and the ELF e_machine of its binaries. */
const ARCHES = { amd64: { node: 'x64', elf: 62 }, arm64: { node: 'arm64', elf: 183 }, armhf: { node: 'arm', elf: 40 } };

function fail(msg) {
  console.error(`package: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stderr ?? ''}`);
  return r.stdout ?? '';
}

const t0 = performance.now();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const arch = run('dpkg', ['--print-architecture']).trim();
const want = ARCHES[arch];
if (!want) fail(`architecture ${arch} is not one the box is built for (${Object.keys(ARCHES).join(', ')})`);
if (process.arch !== want.node) fail(`this node is ${process.arch}, the system is ${arch}: build with a node of the system's architecture`);
if (Number(process.versions.node.split('.')[0]) < 20) fail(`node ${process.versions.node}: the box needs 20 or newer`);

// 1. The compiled box and the sd_notify addon.
if (!opt['skip-build']) {
  run('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  run(process.execPath, [join(root, 'scripts/build-native.mjs')], { stdio: 'inherit' });
}
const tBuild = performance.now();
for (const f of ['dist/gateway/cli.js', 'dist/native/sd-notify.node', 'dist/hardware/profiles', 'build/panel/index.html']) if (!existsSync(join(root, f))) fail(`${f} is missing: run without --skip-build`);

const stage = mkdtempSync(join(tmpdir(), 'shaobing-deb-'));
try {
  const opt_ = join(stage, 'opt/shaobing');
  const put = (from, to, mode = 0o644) => {
    const dest = join(stage, to);
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(join(root, from), dest);
    chmodSync(dest, mode);
  };

  // 2. /opt/shaobing: dist/ (without source maps: they point at sources the package lacks), the
  // entry point, package.json ("type": "module" makes dist/'s .js files ES modules).
  for (const d of ['gateway', 'drivers', 'simulators', 'hardware', 'native']) {
    cpSync(join(root, 'dist', d), join(opt_, 'dist', d), { recursive: true, filter: (src) => !src.endsWith('.map') });
  }
  // The panel page as `npm run build` made it (scripts/build-panel.mjs: hashed files, each also
  // .gz and .br); dist/gateway/panel/routes-page.js serves /opt/shaobing/build/panel/.
  cpSync(join(root, 'build/panel'), join(opt_, 'build/panel'), { recursive: true });
  put('bin/shaobing.mjs', 'opt/shaobing/bin/shaobing.mjs', 0o755);
  writeFileSync(join(opt_, 'package.json'), `${JSON.stringify({ name: pkg.name, version: pkg.version, type: 'module', license: pkg.license, dependencies: pkg.dependencies }, null, 2)}\n`);

  // 3. The production node_modules.
  const modules = productionModules();
  for (const key of modules) copyModule(key, join(opt_, key));

  // 4. Node itself, with its licence.
  mkdirSync(join(opt_, 'node/bin'), { recursive: true });
  cpSync(process.execPath, join(opt_, 'node/bin/node'));
  chmodSync(join(opt_, 'node/bin/node'), 0o755);
  const nodeLicense = [join(dirname(process.execPath), '../share/doc/node/LICENSE'), '/usr/share/doc/nodejs/LICENSE', join(dirname(process.execPath), '../LICENSE')].find(existsSync);
  if (!nodeLicense) fail(`no LICENSE found for the node at ${process.execPath}; it must ship with the binary`);
  cpSync(nodeLicense, join(opt_, 'node/LICENSE'));

  // 5. System files.
  put('hardware/debian/shaobing', 'usr/bin/shaobing', 0o755);
  put('hardware/systemd/shaobing.service', 'lib/systemd/system/shaobing.service');
  put('hardware/systemd/journald-shaobing.conf', 'etc/systemd/journald.conf.d/shaobing.conf');
  put('hardware/systemd/modules-load-shaobing.conf', 'etc/modules-load.d/shaobing.conf');
  put('hardware/udev/70-shaobing-rs485.rules', 'etc/udev/rules.d/70-shaobing-rs485.rules');
  put('hardware/debian/site.yaml', 'etc/shaobing/site.yaml');
  put('hardware/docs/install.md', 'usr/share/doc/shaobing/install.md');
  writeFileSync(join(stage, 'usr/share/doc/shaobing/copyright'), `Shaobing ${pkg.version}\nLicense: ${pkg.license} (https://www.apache.org/licenses/LICENSE-2.0)\nNode.js: /opt/shaobing/node/LICENSE\nnpm packages: the licence files in /opt/shaobing/node_modules/*/\n`);

  // 6. Every ELF file is of the package's architecture.
  const elves = checkElves(stage, want.elf);

  // 7. DEBIAN/: control (with the shared libraries node and the addons link), conffiles, scripts.
  const debian = join(stage, 'DEBIAN');
  mkdirSync(debian);
  for (const s of ['postinst', 'prerm', 'postrm']) put(`hardware/debian/${s}`, `DEBIAN/${s}`, 0o755);
  const conffiles = ['etc/shaobing/site.yaml', 'etc/udev/rules.d/70-shaobing-rs485.rules', 'etc/systemd/journald.conf.d/shaobing.conf', 'etc/modules-load.d/shaobing.conf'];
  writeFileSync(join(debian, 'conffiles'), conffiles.map((f) => `/${f}\n`).join(''));
  const shlibs = sharedLibDepends(elves);
  const installedKb = Number(run('du', ['-sk', '--exclude=DEBIAN', stage]).split('\t')[0]);
  writeFileSync(
    join(debian, 'control'),
    [
      `Package: shaobing`,
      `Version: ${pkg.version}`,
      `Architecture: ${arch}`,
      `Maintainer: Shaobing maintainers <shaobing@localhost>`,
      `Installed-Size: ${installedKb}`,
      // Speech (espeak-ng, Mandarin voice cmn-latn-pinyin), the speaker sink (aplay) and audio conversion (sox)
      // are the broadcasts; adduser makes the service's user.
      `Depends: ${[shlibs, 'adduser', 'espeak-ng', 'alsa-utils', 'sox'].filter(Boolean).join(', ')}`,
      // The panel's Chinese on a screen attached to the box; udev for the adapters' names; opusdec
      // for broadcast recordings in Opus (README "Broadcasts and sound"; Debian's sox has no Opus).
      `Recommends: fonts-noto-cjk, udev, opus-tools`,
      `Section: misc`,
      `Priority: optional`,
      `Description: Shaobing (哨兵) community alert box`,
      ` Reads rain gauges, water-level probes and smoke detectors (Modbus RTU/TCP, serial,`,
      ` MQTT), raises alerts by China's warning levels, sounds sirens and speaks broadcasts,`,
      ` logs every event to SQLite and forwards them to the township. Runs as the systemd`,
      ` service shaobing with a watchdog; includes its own Node.js ${process.versions.node}.`,
      '',
    ].join('\n'),
  );

  // 8. The .deb. Owned by root in the archive (--root-owner-group), whoever builds it.
  mkdirSync(outDir, { recursive: true });
  const deb = join(outDir, `shaobing_${pkg.version}_${arch}.deb`);
  const tStage = performance.now();
  run('dpkg-deb', ['--root-owner-group', `-Z${compress}`, '--build', stage, deb]);
  const tEnd = performance.now();
  const s = (a, b) => ((b - a) / 1000).toFixed(1);
  console.log(`${relative(process.cwd(), deb) || deb}: ${(statSync(deb).size / 1e6).toFixed(1)} MB (${compress}), installs ${(installedKb / 1024).toFixed(0)} MB; ${modules.length} npm packages, ${elves.length} ELF files; build ${s(t0, tBuild)} s, stage ${s(tBuild, tStage)} s, dpkg-deb ${s(tStage, tEnd)} s`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

/** The lockfile keys (node_modules/…) of every production package, in a stable order. */
function productionModules() {
  const lockPath = join(root, 'node_modules/.package-lock.json');
  if (!existsSync(lockPath)) fail('node_modules/.package-lock.json is missing: run npm ci first');
  const packages = JSON.parse(readFileSync(lockPath, 'utf8')).packages;
  const found = new Set();
  // Node's rule: node_modules/<name> next to the requiring package, then in each parent's.
  const locate = (from, name) => {
    for (let base = from; ; ) {
      const key = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (packages[key]) return key;
      if (!base) return null;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };
  const walk = (from, deps, optional) => {
    for (const name of Object.keys(deps ?? {})) {
      if (EXCLUDE.has(name) || name.startsWith('@types/')) continue; // @types: declarations, never loaded
      const key = locate(from, name);
      if (!key) {
        if (optional) continue; // another platform's binary, not installed here
        fail(`${from || 'package.json'} needs ${name}, which is not installed: run npm ci`);
      }
      if (found.has(key)) continue;
      found.add(key);
      const p = packages[key];
      walk(key, p.dependencies, false);
      walk(key, p.optionalDependencies, true);
      const peersOptional = p.peerDependenciesMeta ?? {};
      for (const [peer] of Object.entries(p.peerDependencies ?? {})) walk(key, { [peer]: '*' }, peersOptional[peer]?.optional === true);
    }
  };
  walk('', pkg.dependencies, false);
  walk('', pkg.optionalDependencies, true);
  return [...found].sort();
}

/** Copies one package without its nested node_modules (their packages are copied on their own) and without build leftovers. */
function copyModule(key, dest) {
  const src = join(root, key);
  const native = existsSync(join(src, 'binding.gyp'));
  const keepPrebuild = `linux-${process.arch}`;
  cpSync(src, dest, {
    recursive: true,
    filter: (path) => {
      const rel = relative(src, path);
      if (rel === 'node_modules' || rel.startsWith('node_modules/')) return false;
      if (rel.endsWith('.map')) return false; // source maps: not read at run time
      if (!native) return true;
      // Native packages: the built .node files, not their objects and sources.
      if (/^build\/(Release|Debug)\/(obj|obj\.target|\.deps)(\/|$)/.test(rel)) return false;
      if (/^build\/(Release|Debug)\/.*\.(a|o|d)$/.test(rel) || /^build\/(Makefile|config\.gypi|.*\.mk)$/.test(rel)) return false;
      if (rel === 'build/Release/test_extension.node' || /^(deps|src)(\/|$)/.test(rel)) return false;
      const pre = /^prebuilds\/([^/]+)/.exec(rel);
      // Debian's C library is glibc: not the musl builds either.
      return !pre || (pre[1] === keepPrebuild && !rel.endsWith('.musl.node'));
    },
  });
}

/** Every ELF file under `dir`; fails if one is not for `machine` (e_machine). */
function checkElves(dir, machine) {
  const elves = [];
  const header = Buffer.alloc(20);
  const visit = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile()) {
        const fd = openSync(p, 'r');
        const n = readSync(fd, header, 0, 20, 0);
        closeSync(fd);
        if (n < 20 || header.readUInt32BE(0) !== 0x7f454c46) continue;
        const m = header.readUInt16LE(18);
        if (m !== machine) fail(`${relative(dir, p)} is built for ELF machine ${m}, the package is ${arch} (${machine}): rebuild node_modules on a ${arch} machine`);
        elves.push(p);
      }
    }
  };
  visit(dir);
  return elves;
}

/** The Depends of node and the native modules' shared libraries (dpkg-shlibdeps, from dpkg-dev). */
function sharedLibDepends(elves) {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-shlibs-'));
  try {
    mkdirSync(join(dir, 'debian'));
    writeFileSync(join(dir, 'debian/control'), 'Source: shaobing\n\nPackage: shaobing\nArchitecture: any\n');
    const out = run('dpkg-shlibdeps', ['-O', '--warnings=0', ...elves], { cwd: dir });
    return /^shlibs:Depends=(.*)$/m.exec(out)?.[1]?.trim() ?? '';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
