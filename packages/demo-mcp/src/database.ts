import { constants, DatabaseSync } from 'node:sqlite';

/**
 * The demo database: one SQLite file with a couple of tables. Reads go through a connection
 * opened read-only; writes allow only INSERT, UPDATE and DELETE on existing tables. Both refuse
 * ATTACH (which could create files anywhere), PRAGMA and schema changes via SQLite's authorizer.
 */
export class DemoDatabase {
  readonly #rw: DatabaseSync;
  readonly #ro: DatabaseSync;

  constructor(file: string) {
    this.#rw = new DatabaseSync(file);
    this.#rw.exec('PRAGMA journal_mode = WAL');
    seed(this.#rw);
    this.#ro = new DatabaseSync(file, { readOnly: true });
    this.#ro.setAuthorizer((action) =>
      READ_ACTIONS.has(action) ? constants.SQLITE_OK : constants.SQLITE_DENY,
    );
    this.#rw.setAuthorizer((action) =>
      WRITE_ACTIONS.has(action) ? constants.SQLITE_OK : constants.SQLITE_DENY,
    );
  }

  /** Runs one read-only statement; at most `limit` rows. */
  query(sql: string, limit = 200): Record<string, unknown>[] {
    const rows: Record<string, unknown>[] = [];
    for (const row of this.#ro.prepare(sql).iterate()) {
      rows.push(row as Record<string, unknown>);
      if (rows.length >= limit) break;
    }
    return rows;
  }

  /** Runs one INSERT/UPDATE/DELETE; returns the number of changed rows and the tables touched. */
  execute(sql: string): { changes: number; tables: string[] } {
    const touched = new Set<string>();
    this.#rw.setAuthorizer((action, arg1) => {
      if (!WRITE_ACTIONS.has(action)) return constants.SQLITE_DENY;
      if (MUTATIONS.has(action) && typeof arg1 === 'string' && !arg1.startsWith('sqlite_')) touched.add(arg1);
      return constants.SQLITE_OK;
    });
    const { changes } = this.#rw.prepare(sql).run();
    return { changes: Number(changes), tables: [...touched] };
  }

  tables(): string[] {
    return this.#ro
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all()
      .map((r) => String((r as { name: string }).name));
  }

  /** The rows of one table (identifier checked against the schema, never interpolated blindly). */
  rows(table: string, limit = 100): Record<string, unknown>[] {
    if (!this.tables().includes(table)) throw new Error(`No table named ${table}.`);
    return this.query(`SELECT * FROM "${table}" LIMIT ${limit}`, limit);
  }

  close(): void {
    this.#ro.close();
    this.#rw.close();
  }
}

const READ_ACTIONS = new Set([constants.SQLITE_SELECT, constants.SQLITE_READ, constants.SQLITE_FUNCTION]);
const MUTATIONS = new Set([constants.SQLITE_INSERT, constants.SQLITE_UPDATE, constants.SQLITE_DELETE]);
const WRITE_ACTIONS = new Set([...READ_ACTIONS, ...MUTATIONS, constants.SQLITE_TRANSACTION]);

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
