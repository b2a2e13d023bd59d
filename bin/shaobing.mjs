#!/usr/bin/env node
// The `shaobing` command. The box runs our TypeScript sources directly through tsx's loader,
// so what is tested is exactly what runs (no separate build output to drift).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../gateway/cli.ts');
process.exitCode = await main(process.argv.slice(2));
