/**
 * A SeenStore in one SQLite file that several consumers share (a township's database does this
 * with a unique key on (site, seq)): the INSERT that finds the row already there is the dedupe,
 * atomic across processes. WAL, so readers do not block the writer; a busy timeout, so two
 * consumers writing at once wait for each other instead of failing.
 */
import Database from 'better-sqlite3';
import type { Range, SeenStore } from './ledger.ts';

export class SqliteSeen implements SeenStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly insertSkip: Database.Statement;
  private readonly ranges: Database.Statement;
  private readonly skips: Database.Statement;
  private readonly siteList: Database.Statement;

  constructor(path: string) {
    this.db = new Database(path, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS seen (site TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (site, seq)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS announced (site TEXT NOT NULL, seq_from INTEGER NOT NULL, seq_to INTEGER NOT NULL, PRIMARY KEY (site, seq_from, seq_to)) WITHOUT ROWID;
    `);
    this.insert = this.db.prepare('INSERT OR IGNORE INTO seen (site, seq) VALUES (?, ?)');
    this.insertSkip = this.db.prepare('INSERT OR IGNORE INTO announced (site, seq_from, seq_to) VALUES (?, ?, ?)');
    // Islands: consecutive seqs share seq − row_number().
    this.ranges = this.db.prepare('SELECT min(seq) AS a, max(seq) AS b FROM (SELECT seq, seq - row_number() OVER (ORDER BY seq) AS g FROM seen WHERE site = ?) GROUP BY g ORDER BY a');
    this.skips = this.db.prepare('SELECT seq_from AS a, seq_to AS b FROM announced WHERE site = ? ORDER BY seq_from');
    this.siteList = this.db.prepare('SELECT site FROM seen UNION SELECT site FROM announced ORDER BY site');
  }

  add(site: string, seq: number): boolean {
    return this.insert.run(site, seq).changes === 1;
  }

  announce(site: string, [from, to]: Range): void {
    this.insertSkip.run(site, from, to);
  }

  seen(site: string): Range[] {
    return (this.ranges.all(site) as { a: number; b: number }[]).map((r) => [r.a, r.b]);
  }

  announced(site: string): Range[] {
    return (this.skips.all(site) as { a: number; b: number }[]).map((r) => [r.a, r.b]);
  }

  sites(): string[] {
    return (this.siteList.all() as { site: string }[]).map((r) => r.site);
  }

  close(): void {
    this.db.close();
  }
}
