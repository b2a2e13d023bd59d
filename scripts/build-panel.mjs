#!/usr/bin/env node
// Builds the duty officer's page (gateway/panel/page/) into build/panel/, which the box serves
// (gateway/panel/routes-page.ts). `npm install` / `npm ci` run it (`prepare`); the tests run it
// before starting a box, so they test the page as the sources are now.
//
// - esbuild bundles the TypeScript (uPlot included) and the CSS into content-hashed files, and
//   index.html names them; everything is written plain, .gz and .br (the box's small CPU
//   compresses nothing per request: @fastify/static picks the precompressed file).
// - Up to date = same inputs (every file of the page's sources, uPlot's files, this script):
//   then nothing is written. A lock keeps two builds (two test files at once) from swapping
//   the folder under a box that serves it; the new folder replaces the old by rename.
// - The page must weigh at most WEIGHT_LIMIT gzipped: the build prints what it weighs and
//   fails above it.
// - esbuild is a devDependency. A production install (`npm ci --omit=dev`) cannot build: the
//   page built before (on the build machine: `npm ci && npm run build && npm prune --omit=dev`)
//   is kept, and a missing one is reported loudly without failing the install (the box's alarm
//   path needs no page; the panel answers 503 at `/` and logs why).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export const PAGE_SRC = fileURLToPath(new URL('../gateway/panel/page/', import.meta.url));
export const PAGE_OUT = fileURLToPath(new URL('../build/panel/', import.meta.url));
/** Issue 17: the whole page, gzipped. */
export const WEIGHT_LIMIT = 300 * 1024;
const UPLOT = fileURLToPath(new URL('../node_modules/uplot/', import.meta.url));
const MANIFEST = 'build.json';

export class PanelBuildError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function files(dir) {
  const out = [];
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    if (name.isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out.sort();
}

/** A hash of everything the build reads, so an unchanged page is not rebuilt. */
export function inputsHash() {
  const h = createHash('sha256');
  const inputs = [...files(PAGE_SRC), join(UPLOT, 'package.json'), join(UPLOT, 'dist/uPlot.esm.js'), join(UPLOT, 'dist/uPlot.min.css'), fileURLToPath(import.meta.url)];
  for (const f of inputs) {
    h.update(relative(PAGE_SRC, f));
    h.update(existsSync(f) ? readFileSync(f) : 'missing');
  }
  return h.digest('hex').slice(0, 16);
}

export function readManifest(out = PAGE_OUT) {
  try {
    const m = JSON.parse(readFileSync(join(out, MANIFEST), 'utf8'));
    return m.files.every((f) => existsSync(join(out, f.name))) ? m : null;
  } catch {
    return null;
  }
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

export function describe(m) {
  return `panel page: ${m.files.length} files, ${kb(m.total_bytes)}, ${kb(m.total_gzip_bytes)} gzipped, ${kb(m.total_br_bytes)} brotli (limit ${kb(WEIGHT_LIMIT)} gzipped)`;
}

/** Waits for the build lock (a file created exclusively); a lock left by a dead process is taken over. */
async function lock(path) {
  const end = Date.now() + 120_000;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(path, 'utf8'));
    } catch {}
    let alive = false;
    try {
      if (holder > 0) alive = process.kill(holder, 0);
    } catch {}
    if (!alive && holder > 0) rmSync(path, { force: true });
    if (Date.now() > end) throw new PanelBuildError('lock_timeout', `${path}: another build held the lock for 120 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Builds the page into `out` unless it is up to date. Returns the manifest and whether it was
 * built now. Throws PanelBuildError `too_heavy` over the weight limit, `no_esbuild` without esbuild.
 */
export async function buildPanel({ out = PAGE_OUT, force = false } = {}) {
  const inputs = inputsHash();
  const current = readManifest(out);
  if (!force && current?.inputs === inputs) return { manifest: current, built: false };
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new PanelBuildError('no_esbuild', 'esbuild is not installed (a production install, npm ci --omit=dev?): the page cannot be built here');
  }
  const parent = join(out, '..');
  mkdirSync(parent, { recursive: true });
  const unlock = await lock(`${out.replace(/\/$/, '')}.lock`);
  try {
    // Someone may have built it while this waited for the lock.
    const again = readManifest(out);
    if (!force && again?.inputs === inputs) return { manifest: again, built: false };
    const tmp = `${out.replace(/\/$/, '')}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      const manifest = await bundle(esbuild, tmp, inputs);
      const old = `${out.replace(/\/$/, '')}.old-${process.pid}`;
      if (existsSync(out)) renameSync(out, old);
      renameSync(tmp, out);
      rmSync(old, { recursive: true, force: true });
      return { manifest, built: true };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  } finally {
    unlock();
  }
}

async function bundle(esbuild, dir, inputs) {
  const r = await esbuild.build({
    entryPoints: [join(PAGE_SRC, 'main.ts'), join(PAGE_SRC, 'style.css')],
    bundle: true,
    minify: true,
    format: 'iife',
    // The box's own Chromium (Debian) and the phones and laptops of a village's officers: a few years back.
    target: 'es2020',
    charset: 'utf8',
    legalComments: 'eof',
    entryNames: '[name]-[hash]',
    outdir: dir,
    metafile: true,
    logLevel: 'silent',
  });
  const outs = Object.keys(r.metafile.outputs).map((p) => relative(dir, p));
  const js = outs.find((p) => p.endsWith('.js'));
  const css = outs.find((p) => p.endsWith('.css'));
  if (!js || !css) throw new PanelBuildError('bundle', `esbuild wrote ${outs.join(', ')}: no script or no style sheet`);
  const html = readFileSync(join(PAGE_SRC, 'index.html'), 'utf8').replace('{{css}}', css).replace('{{js}}', js);
  if (html.includes('{{')) throw new PanelBuildError('bundle', 'index.html: a placeholder was left unfilled');
  writeFileSync(join(dir, 'index.html'), html);
  writeFileSync(join(dir, 'favicon.svg'), readFileSync(join(PAGE_SRC, 'favicon.svg')));
  const names = [...outs, 'index.html', 'favicon.svg'];
  const list = [];
  for (const name of names) {
    const body = readFileSync(join(dir, name));
    const gz = gzipSync(body, { level: 9 });
    const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } });
    writeFileSync(join(dir, `${name}.gz`), gz);
    writeFileSync(join(dir, `${name}.br`), br);
    list.push({ name, bytes: body.length, gzip_bytes: gz.length, br_bytes: br.length });
  }
  const sum = (k) => list.reduce((n, f) => n + f[k], 0);
  const manifest = { inputs, built_at: new Date().toISOString(), files: list, total_bytes: sum('bytes'), total_gzip_bytes: sum('gzip_bytes'), total_br_bytes: sum('br_bytes'), limit_gzip_bytes: WEIGHT_LIMIT };
  if (manifest.total_gzip_bytes > WEIGHT_LIMIT) throw new PanelBuildError('too_heavy', `${describe(manifest)}: over the limit`);
  writeFileSync(join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

async function cli() {
  const force = process.argv.includes('--force');
  try {
    const { manifest, built } = await buildPanel({ force });
    console.log(`${describe(manifest)}${built ? '' : ' (up to date)'} → ${relative(process.cwd(), PAGE_OUT) || PAGE_OUT}`);
  } catch (err) {
    if (err?.code === 'no_esbuild') {
      const kept = readManifest();
      // Without the dev dependencies uPlot is gone too: the hash cannot say whether the page's own sources changed.
      const stale = existsSync(join(UPLOT, 'package.json')) && kept?.inputs !== inputsHash();
      if (kept) console.warn(`${err.message}; keeping the page built ${kept.built_at}${stale ? ' (older than the sources)' : ''} in build/panel. ${describe(kept)}`);
      else console.warn(`\n*** ${err.message}, and none was built before: the box runs, but its panel page answers 503.\n*** Build it where dev dependencies are installed: npm ci && npm run build-panel (README "Panel").\n`);
      return 0;
    }
    console.error(`build-panel: ${err?.message ?? err}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await cli();
