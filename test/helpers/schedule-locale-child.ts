/**
 * For schedule-locale.test.ts, in a fresh process (luxon caches the system locale once asked):
 * counts `Intl.DateTimeFormat` objects made while node-schedule computes the next runs of the
 * store's two jobs, loaded as the store loads it (argv[2] = 'box') or alone ('bare').
 */
const made: string[] = [];
const Real = Intl.DateTimeFormat;
Intl.DateTimeFormat = Object.assign(function (...args: ConstructorParameters<typeof Real>) {
  made.push(new Error().stack!.split('\n')[2]!.trim());
  return new Real(...args);
}, Real) as typeof Intl.DateTimeFormat;

// 'box': node-schedule as the store loads it (jobs.ts); 'bare': node-schedule alone, same crons.
const crons = ['*/5 * * * * *', '0 17 3 * * *'];
if (process.argv[2] === 'box') {
  const { ROLLUP_CRON, RETENTION_CRON } = await import('../../gateway/store/jobs.ts');
  if (ROLLUP_CRON !== crons[0] || RETENTION_CRON !== crons[1]) throw new Error(`the store's crons changed: ${ROLLUP_CRON}, ${RETENTION_CRON}`);
}
const schedule = (await import('node-schedule')).default;
const jobs = crons.map((cron) => schedule.scheduleJob(cron, () => undefined));
const next = jobs.map((j) => j.nextInvocation()!.getTime());
for (const j of jobs) j.cancel();
process.stdout.write(JSON.stringify({ made, next, retentionLocal: new Date(next[1]!).getHours() * 60 + new Date(next[1]!).getMinutes() }));
