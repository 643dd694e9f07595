import { type ChildProcess, fork } from 'node:child_process';
import type { SqlRequest, SqlResult } from './sql-connection.ts';
import { SqlError, type SqlErrorCode } from './sql-error.ts';
import type { SqlJob } from './sql-process.ts';

export interface SqlPoolOptions {
  /** How long one call may take, waiting included; then its process is killed. Default 5000 ms. */
  deadlineMs?: number;
  /** How many statements run at once, each in its own process. Default 2. */
  processes?: number;
  /** How many calls may wait for a process before more are refused as busy. Default 32. */
  maxWaiting?: number;
}

interface Pending {
  request: SqlRequest;
  deadline: number;
  timer: NodeJS.Timeout;
  resolve(result: SqlResult): void;
  reject(err: Error): void;
}

interface Runner {
  child: ChildProcess;
  job?: Pending;
  /** It has answered once: if it dies now, a replacement is worth starting for those waiting. */
  served: boolean;
}

type Reply = { ok: true; result: SqlResult } | { ok: false; code: SqlErrorCode; message: string };

const ENTRY = new URL('./sql-process.ts', import.meta.url);

// A child busy in a runaway statement notices its parent's end only when the statement ends; so
// when this process exits (even on an uncaught error), its SQL processes die with it.
const LIVE = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of LIVE) child.kill('SIGKILL');
});

/**
 * Runs statements in a few forked processes, off the server's thread: a slow statement delays
 * only its caller, and at the deadline its process is killed (SIGKILL; SQLite's journal undoes the
 * uncommitted work, the OS drops its locks) and replaced on demand. Every call settles by its
 * deadline, whether it waited or ran.
 */
export class SqlPool {
  readonly #file: string;
  readonly #deadlineMs: number;
  readonly #processes: number;
  readonly #maxWaiting: number;
  readonly #runners = new Set<Runner>();
  readonly #waiting: Pending[] = [];
  #closed = false;

  constructor(file: string, options: SqlPoolOptions = {}) {
    this.#file = file;
    this.#deadlineMs = options.deadlineMs ?? 5000;
    this.#processes = Math.max(1, options.processes ?? 2);
    this.#maxWaiting = options.maxWaiting ?? 32;
  }

  run(request: SqlRequest): Promise<SqlResult> {
    if (this.#closed) return Promise.reject(new SqlError('failed', 'The database is closed.'));
    if (this.#waiting.length >= this.#maxWaiting) {
      return Promise.reject(new SqlError('busy', 'The database is busy; try again shortly.'));
    }
    return new Promise<SqlResult>((resolve, reject) => {
      const job: Pending = {
        request,
        deadline: performance.now() + this.#deadlineMs,
        timer: setTimeout(() => this.#expire(job), this.#deadlineMs),
        resolve,
        reject,
      };
      this.#waiting.push(job);
      this.#dispatch();
    });
  }

  /** Kills every process; calls still waiting or running fail. */
  close(): void {
    this.#closed = true;
    for (const job of this.#waiting.splice(0))
      this.#settle(job, new SqlError('failed', 'The database is closed.'));
    for (const runner of this.#runners) this.#kill(runner, new SqlError('failed', 'The database is closed.'));
  }

  #dispatch(): void {
    while (this.#waiting.length > 0) {
      const runner = [...this.#runners].find((r) => !r.job) ?? this.#spawn();
      if (!runner) return;
      const job = this.#waiting.shift() as Pending;
      runner.job = job;
      const message: SqlJob = { request: job.request, busyTimeoutMs: job.deadline - performance.now() };
      runner.child.send(message);
    }
  }

  #spawn(): Runner | undefined {
    if (this.#runners.size >= this.#processes) return undefined;
    // No inherited flags (an --inspect port, test-runner options); no output: errors come back as replies.
    const child = fork(ENTRY, [this.#file], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    const runner: Runner = { child, served: false };
    this.#runners.add(runner);
    LIVE.add(child);
    child.once('exit', () => LIVE.delete(child));
    // An idle pool must not keep the server's process alive; a running call's timer does.
    child.unref();
    child.channel?.unref();
    child.on('message', (reply: Reply) => {
      const job = runner.job;
      if (!job) return;
      runner.job = undefined;
      runner.served = true;
      this.#settle(job, reply.ok ? reply.result : new SqlError(reply.code, reply.message));
      this.#dispatch();
    });
    child.on('exit', () => this.#kill(runner, new SqlError('failed', 'The database process stopped.')));
    child.on('error', () => this.#kill(runner, new SqlError('failed', 'The database process failed.')));
    return runner;
  }

  #expire(job: Pending): void {
    const seconds = `${this.#deadlineMs / 1000} s`;
    const error = new SqlError('timeout', `The statement did not finish within ${seconds} and was stopped.`);
    const runner = [...this.#runners].find((r) => r.job === job);
    if (runner) this.#kill(runner, error);
    else {
      const index = this.#waiting.indexOf(job);
      if (index >= 0) this.#waiting.splice(index, 1);
      this.#settle(job, error);
    }
  }

  /** Removes a runner for good (killing its process if alive) and fails its call, if any. */
  #kill(runner: Runner, error: SqlError): void {
    if (!this.#runners.delete(runner)) return;
    if (runner.child.exitCode === null && runner.child.signalCode === null) runner.child.kill('SIGKILL');
    if (runner.job) this.#settle(runner.job, error);
    runner.job = undefined;
    // Not after a process that never answered: if forking fails, retrying at once would spin.
    if (!this.#closed && (runner.served || error.code === 'timeout')) this.#dispatch();
  }

  #settle(job: Pending, outcome: SqlResult | Error): void {
    clearTimeout(job.timer);
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }
}
