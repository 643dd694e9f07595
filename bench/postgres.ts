/**
 * The token endpoint on PostgreSQL beside SQLite: runs this same benchmark again, Gatehouse only,
 * with `GATEHOUSE_STORE` pointing at a fresh schema (so `gatehouse serve` and the CLI keep their state
 * in PostgreSQL), and reports PostgreSQL ÷ SQLite for each scenario. Skipped, with a message, when
 * no PostgreSQL answers at GATEHOUSE_BENCH_POSTGRES (default: the test server, postgres://postgres@127.0.0.1:5432/test).
 *
 * The two runs follow each other rather than interleave, so read the ratio as indicative.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { childEnv } from './processes.ts';

interface Results {
  summaries: { contender: string; scenario: string; rps: number; p50: number; p99: number }[];
  problems: string[];
}

export interface PostgresBenchOptions {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  /** The results file of the SQLite run just made. */
  sqliteResults: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Runs the PostgreSQL comparison; resolves with an exit code (0 also when skipped). */
export async function benchPostgres(options: PostgresBenchOptions): Promise<number> {
  const url =
    process.env.GATEHOUSE_BENCH_POSTGRES ??
    process.env.GATEHOUSE_TEST_POSTGRES ??
    'postgres://postgres@127.0.0.1:5432/test';
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  admin.on('error', () => {});
  try {
    await admin.connect();
  } catch (err) {
    log(`\nPostgreSQL comparison skipped: no server at ${url} (${(err as Error).message}).`);
    return 0;
  }
  const schema = `gatehouse_bench_${randomBytes(4).toString('hex')}`;
  const out = join(here, 'results', 'postgres.json');
  try {
    log(`\nbench: Gatehouse again, on PostgreSQL (schema ${schema})`);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          join(here, 'run.ts'),
          '--contender',
          'gatehouse',
          ...['--rounds', String(options.rounds), '--seconds', String(options.seconds)],
          ...['--warmup', String(options.warmup), '--connections', String(options.connections)],
          ...['--out', out],
        ],
        {
          env: { ...childEnv, GATEHOUSE_STORE: `${url}${url.includes('?') ? '&' : '?'}schema=${schema}` },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      child.on('close', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      log(`bench on PostgreSQL failed (exit ${code})`);
      return 1;
    }
    const sqlite = JSON.parse(readFileSync(options.sqliteResults, 'utf8')) as Results;
    const postgres = JSON.parse(readFileSync(out, 'utf8')) as Results;
    const lines = ['', 'Gatehouse token endpoint, PostgreSQL beside SQLite (median req/s, p99 ms):'];
    for (const p of postgres.summaries) {
      const s = sqlite.summaries.find((x) => x.contender === 'gatehouse' && x.scenario === p.scenario);
      if (!s) continue;
      lines.push(
        `  ${p.scenario.padEnd(20)} SQLite ${s.rps.toFixed(0).padStart(6)} (p99 ${s.p99.toFixed(0)})  ` +
          `PostgreSQL ${p.rps.toFixed(0).padStart(6)} (p99 ${p.p99.toFixed(0)})  ratio ${(p.rps / s.rps).toFixed(2)}×`,
      );
    }
    lines.push(`Results: ${out}`, '');
    process.stdout.write(lines.join('\n'));
    return 0;
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end().catch(() => {});
  }
}
