/**
 * Runs abuse-attacks.ts generators in their own process: argv[2] is a JSON array of
 * AttackSpecs, run at once. Prints `{"ready":true}` when every one is in place, then
 * `{"results":[…]}` (one per spec, or `{"error": …}`) and exits.
 */
import { runAttack, type AttackSpec } from './abuse-attacks.ts';

const specs = JSON.parse(process.argv[2]!) as AttackSpec[];
let waiting = specs.length;
const ready = (): void => {
  if (--waiting === 0) process.stdout.write('{"ready":true}\n');
};
const results = await Promise.all(
  specs.map((s) => {
    let called = false;
    const once = (): void => {
      if (!called) {
        called = true;
        ready();
      }
    };
    return runAttack(s, once).then(
      (r) => (once(), r),
      (err: Error) => (once(), { error: String(err?.stack ?? err) }),
    );
  }),
);
process.stdout.write(`${JSON.stringify({ results })}\n`);
process.exit(0);
