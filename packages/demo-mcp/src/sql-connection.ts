import { constants, DatabaseSync } from 'node:sqlite';
import { SqlError } from './sql-error.ts';
import { checkSingleStatement, checkStatement } from './sql-statement.ts';

export type Row = Record<string, unknown>;

/** One tool call's SQL, as sent to the process that runs it. */
export type SqlRequest = { kind: 'query'; sql: string; limit: number } | { kind: 'execute'; sql: string };

export type SqlResult =
  | { kind: 'query'; rows: Row[] }
  | { kind: 'execute'; changes: number; tables: string[] };

/** Rows are bounded in count and in size, so a result never floods the process that serves it. */
export const MAX_RESULT_BYTES = 1024 * 1024;

/**
 * Runs one statement on a connection of its own, closed before returning: nothing a call does
 * (a transaction, a temp table, a setting) can outlive it or reach another caller. Queries open
 * the file read-only. SQLite's authorizer refuses, on both, ATTACH (files anywhere), PRAGMA,
 * schema changes, transaction control and savepoints; `busyTimeoutMs` bounds waiting for a writer.
 */
export function runSql(file: string, request: SqlRequest, busyTimeoutMs: number): SqlResult {
  checkStatement(request.kind, request.sql);
  const db = new DatabaseSync(file, {
    readOnly: request.kind === 'query',
    timeout: Math.max(0, Math.floor(busyTimeoutMs)),
    allowExtension: false,
  });
  try {
    db.enableDefensive(true);
    return request.kind === 'query' ? query(db, request.sql, request.limit) : execute(db, request.sql);
  } finally {
    // Closing a connection rolls back whatever it left open; the authorizer makes that moot.
    db.close();
  }
}

function query(db: DatabaseSync, sql: string, limit: number): SqlResult {
  db.setAuthorizer((action) => (READ_ACTIONS.has(action) ? constants.SQLITE_OK : constants.SQLITE_DENY));
  const statement = sqlite(() => db.prepare(sql));
  checkSingleStatement(sql, statement.sourceSQL);
  const rows: Row[] = [];
  let bytes = 0;
  sqlite(() => {
    for (const row of statement.iterate()) {
      bytes += rowBytes(row as Row);
      if (bytes > MAX_RESULT_BYTES) {
        throw new SqlError('too_large', 'The result is larger than 1 MiB; select fewer rows or columns.');
      }
      rows.push(row as Row);
      if (rows.length >= limit) break;
    }
  });
  return { kind: 'query', rows };
}

function execute(db: DatabaseSync, sql: string): SqlResult {
  const touched = new Set<string>();
  db.setAuthorizer((action, table) => {
    if (!WRITE_ACTIONS.has(action)) return constants.SQLITE_DENY;
    if (MUTATIONS.has(action) && typeof table === 'string' && !table.startsWith('sqlite_'))
      touched.add(table);
    return constants.SQLITE_OK;
  });
  const statement = sqlite(() => db.prepare(sql));
  checkSingleStatement(sql, statement.sourceSQL);
  const { changes } = sqlite(() => statement.run());
  return { kind: 'execute', changes: Number(changes), tables: [...touched] };
}

const READ_ACTIONS = new Set([constants.SQLITE_SELECT, constants.SQLITE_READ, constants.SQLITE_FUNCTION]);
const MUTATIONS = new Set([constants.SQLITE_INSERT, constants.SQLITE_UPDATE, constants.SQLITE_DELETE]);
// No SQLITE_TRANSACTION or SQLITE_SAVEPOINT: a call is one statement in its own implicit transaction.
const WRITE_ACTIONS = new Set([...READ_ACTIONS, ...MUTATIONS]);

/** SQLite's own messages (syntax errors, "not authorized") are safe and useful to show. */
function sqlite<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof SqlError) throw err;
    throw new SqlError('sql_error', `SQL error: ${(err as Error).message}`);
  }
}

function rowBytes(row: Row): number {
  let bytes = 0;
  for (const value of Object.values(row)) {
    bytes += typeof value === 'string' ? value.length : value instanceof Uint8Array ? value.byteLength : 8;
  }
  return bytes;
}
