#!/usr/bin/env node
// `npm run build:native`: compiles gateway/shell/sd-notify.c (the sd_notify addon) into
// dist/native/sd-notify.node, where sd-notify.ts loads it from both the sources and dist/.
//
// A plain C compiler, no node-gyp: the addon uses N-API only, so it needs node_api.h and
// nothing to link against (node resolves the napi_* symbols when it loads the file). `CC` picks
// the compiler (CC=aarch64-linux-gnu-gcc for an arm64 box); NODE_INCLUDE the headers' folder
// (default: Node's own, <prefix>/include/node, which NodeSource's nodejs and nodejs.org's
// tarballs both ship). Written to a temporary file and renamed: two tests building at once
// never load half a file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'gateway/shell/sd-notify.c');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]) : join(root, 'dist/native/sd-notify.node');

const candidates = [process.env.NODE_INCLUDE, join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].filter(Boolean);
const include = candidates.find((d) => existsSync(join(d, 'node_api.h')));
if (!include) {
  console.error(`build-native: node_api.h not found in ${candidates.join(', ')}; set NODE_INCLUDE to Node's include/node folder`);
  process.exit(1);
}
const cc = process.env.CC || 'cc';
mkdirSync(dirname(out), { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const args = ['-std=c99', '-D_GNU_SOURCE', '-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-Werror', `-I${include}`, '-o', tmp, source];
const r = spawnSync(cc, args, { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  console.error(`build-native: ${cc} ${args.join(' ')} failed${r.error ? ` (${r.error.message})` : ''}`);
  process.exit(1);
}
renameSync(tmp, out);
