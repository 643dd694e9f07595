import { SqlError } from './sql-error.ts';

/** What SQLite skips between statements: whitespace, `--` and `/* *\/` comments, empty statements. */
const TRIVIA = /^(?:\s|;|--[^\n]*(?:\n|$)|\/\*[\s\S]*?(?:\*\/|$))*/;

/** The statements each tool may run, by first keyword (the authorizer enforces the rest). */
export const ALLOWED_STATEMENTS = {
  query: new Set(['SELECT', 'WITH', 'VALUES']),
  execute: new Set(['INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'WITH']),
} as const;

/** The first keyword of `sql`, upper-cased ('' when there is none). */
export function firstKeyword(sql: string): string {
  const rest = sql.slice(trivia(sql));
  return /^[A-Za-z]+/.exec(rest)?.[0].toUpperCase() ?? '';
}

/**
 * Refuses anything but the statements a tool exists for. Transaction control (BEGIN, COMMIT,
 * ROLLBACK, SAVEPOINT), ATTACH, PRAGMA, VACUUM and schema changes would outlive the call or reach
 * outside the database; each call is one statement in its own implicit transaction instead.
 */
export function checkStatement(tool: keyof typeof ALLOWED_STATEMENTS, sql: string): void {
  const keyword = firstKeyword(sql);
  if (ALLOWED_STATEMENTS[tool].has(keyword)) return;
  const allowed = [...ALLOWED_STATEMENTS[tool]].join(', ');
  throw new SqlError(
    'statement_refused',
    `${tool} runs one ${allowed} statement; ${keyword || 'this text'} is not allowed here (each call is its own transaction).`,
  );
}

/**
 * SQLite compiles the first statement and silently ignores the rest, so `INSERT …; DELETE …` would
 * run half of what was sent. `compiled` is the prepared statement's `sourceSQL` (the text SQLite
 * consumed); anything after it but comments and semicolons is a second statement.
 */
export function checkSingleStatement(sql: string, compiled: string): void {
  const rest = sql.slice(compiled.length);
  if (trivia(rest) !== rest.length) {
    throw new SqlError('statement_refused', 'Send one statement per call; this text holds more than one.');
  }
}

function trivia(text: string): number {
  return TRIVIA.exec(text)?.[0].length ?? 0;
}
