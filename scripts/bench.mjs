#!/usr/bin/env node
// `npm run bench -- NAME [args]` runs test/bench/NAME.bench.ts with the TypeScript loader.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const [name, ...args] = process.argv.slice(2);
const file = `test/bench/${name}.bench.ts`;
if (!name || !existsSync(file)) {
  const known = readdirSync('test/bench').filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace('.bench.ts', ''));
  console.error(`usage: npm run bench -- NAME   (known: ${known.join(', ')})`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
