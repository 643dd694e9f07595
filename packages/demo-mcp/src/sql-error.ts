/** Why a statement was not run or did not finish; tests assert `code`, users read `message`. */
export type SqlErrorCode =
  | 'sql_error' // SQLite refused or failed it (syntax, "not authorized", constraint, busy)
  | 'statement_refused' // not a statement the tool runs, or more than one
  | 'too_large' // the rows would exceed the result limit
  | 'timeout' // the deadline passed: the process running it was killed
  | 'busy' // too many calls waiting already
  | 'failed'; // the process running it died (e.g. out of memory)

/** A failure whose message is safe and useful to show to the caller (no paths, no stack). */
export class SqlError extends Error {
  readonly code: SqlErrorCode;

  constructor(code: SqlErrorCode, message: string) {
    super(message);
    this.name = 'SqlError';
    this.code = code;
  }
}
