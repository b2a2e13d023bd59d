// Preloaded into a child (`node --import`): when it exits, writes its peak resident set size
// (getrusage ru_maxrss, kB, the whole process with its worker threads) to $SB_MAX_RSS_FILE.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.SB_MAX_RSS_FILE) writeFileSync(process.env.SB_MAX_RSS_FILE, String(process.resourceUsage().maxRSS));
});
