#!/usr/bin/env node
// The `shaobing` command. By default it runs the TypeScript sources through tsx's loader, so
// what is tested is exactly what runs. On the box, `npm run build` compiles them to dist/ and
// SHAOBING_DIST=1 runs that instead: no loader in memory (about 30 MB less RSS), faster start.
const dist = process.env.SHAOBING_DIST === '1';
if (!dist) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { main } = await import(dist ? '../dist/gateway/cli.js' : '../gateway/cli.ts');
process.exitCode = await main(process.argv.slice(2));
