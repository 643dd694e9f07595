/**
 * The process that runs the demo's SQL (forked by sql-pool.ts, one request at a time). It exists
 * because node:sqlite is synchronous and cannot be interrupted: a runaway statement would freeze
 * whatever thread runs it, and a worker thread cannot be stopped inside SQLite either. A process
 * can be killed at its deadline, and SQLite rolls back what it had not committed.
 */
import { runSql, type SqlRequest } from './sql-connection.ts';
import { SqlError } from './sql-error.ts';

export interface SqlJob {
  request: SqlRequest;
  busyTimeoutMs: number;
}

const file = process.argv[2];

process.on('message', (job: SqlJob) => {
  let reply: unknown;
  try {
    if (!file) throw new Error('no database file');
    reply = { ok: true, result: runSql(file, job.request, job.busyTimeoutMs) };
  } catch (err) {
    reply =
      err instanceof SqlError
        ? { ok: false, code: err.code, message: err.message }
        : { ok: false, code: 'failed', message: 'The database process failed.' };
  }
  process.send?.(reply);
});

// The server that forked us is gone: nobody will read an answer.
process.on('disconnect', () => process.exit(0));
