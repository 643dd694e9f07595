import { DatabaseSync } from 'node:sqlite';
import type { Row } from './sql-connection.ts';
import { SqlPool, type SqlPoolOptions } from './sql-pool.ts';

export type DemoDatabaseOptions = SqlPoolOptions;

/**
 * The demo database: one SQLite file with a couple of tables. Every statement runs in a process
 * of its own pool (sql-pool.ts), on a connection of its own (sql-connection.ts), within a
 * deadline: a call can neither leave state behind for other callers nor stall the server's
 * process. Reads open the file read-only; writes allow one INSERT, UPDATE or DELETE on existing
 * tables. ATTACH, PRAGMA, schema changes and transaction control are refused.
 */
export class DemoDatabase {
  readonly #pool: SqlPool;

  constructor(file: string, options: DemoDatabaseOptions = {}) {
    // Setting up is ours (trusted, quick), so it runs here once, before any caller's SQL.
    const setup = new DatabaseSync(file);
    try {
      setup.exec('PRAGMA journal_mode = WAL');
      seed(setup);
    } finally {
      setup.close();
    }
    this.#pool = new SqlPool(file, options);
  }

  /** Runs one read-only statement; at most `limit` rows. */
  async query(sql: string, limit = 200): Promise<Row[]> {
    const result = await this.#pool.run({ kind: 'query', sql, limit });
    return result.kind === 'query' ? result.rows : [];
  }

  /** Runs one INSERT/UPDATE/DELETE; returns the number of changed rows and the tables touched. */
  async execute(sql: string): Promise<{ changes: number; tables: string[] }> {
    const result = await this.#pool.run({ kind: 'execute', sql });
    return result.kind === 'execute'
      ? { changes: result.changes, tables: result.tables }
      : { changes: 0, tables: [] };
  }

  async tables(): Promise<string[]> {
    const rows = await this.query(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    return rows.map((r) => String(r.name));
  }

  /** The rows of one table (identifier checked against the schema, never interpolated blindly). */
  async rows(table: string, limit = 100): Promise<Row[]> {
    if (!(await this.tables()).includes(table)) throw new Error(`No table named ${table}.`);
    return this.query(`SELECT * FROM "${table}" LIMIT ${limit}`, limit);
  }

  close(): void {
    this.#pool.close();
  }
}

function seed(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL DEFAULT '');
    CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0);
  `);
  const count = db.prepare('SELECT COUNT(*) AS n FROM notes').get() as { n: number };
  if (count.n === 0) {
    db.exec(`
      INSERT INTO notes (title, body) VALUES ('Welcome', 'This is the Gatehouse demo database.'),
        ('Scopes', 'Database tools need tools:execute:database.');
      INSERT INTO tasks (title, done) VALUES ('Try the filesystem tools', 0), ('Query the notes table', 0);
    `);
  }
}
