/**
 * The token endpoint on PostgreSQL beside SQLite: Gatehouse on SQLite, and Gatehouse with
 * `GATEHOUSE_STORE` on a fresh PostgreSQL schema as one, two and three `gatehouse serve` instances
 * (one issuer, one master secret, the load spread over them as a load balancer would), measured
 * side by side in one run of bench/run.ts (rounds interleaved), and judges issue #14's
 * PostgreSQL ÷ SQLite targets for one instance. Skipped, with a message, when no PostgreSQL answers
 * at GATEHOUSE_BENCH_POSTGRES (default: the test server, postgres://postgres@127.0.0.1:5432/test).
 *
 * The database runs on the same machine, so every instance, PostgreSQL and the load generator share
 * its CPUs: the several-instance rows show what a request costs (server and database CPU per
 * request) more than how far instances scale on separate machines.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { childEnv } from './processes.ts';
import { LOAD_OPTIONS, type Scenario } from './protocol.ts';
import { checkTarget, median, type Series, type Summary, type Target } from './stats.ts';

interface Results {
  summaries: Summary[];
  series: Series[];
  problems: string[];
}

export interface PostgresBenchOptions {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  /** How many instances to measure on PostgreSQL (one contender each); default 1, 2 and 3. */
  instances?: number[];
}

/** Issue #14: PostgreSQL ÷ SQLite for one instance. */
const TARGETS: Target[] = [
  { scenario: 'refresh_token', subject: 'postgres', baseline: 'gatehouse', factor: 0.8 },
  { scenario: 'client_credentials', subject: 'postgres', baseline: 'gatehouse', factor: 0.9 },
];

const here = dirname(fileURLToPath(import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);
const contenderName = (instances: number) => (instances === 1 ? 'postgres' : `postgres-${instances}`);

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
  const instances = options.instances ?? [1, 2, 3];
  const prefix = `gatehouse_bench_${randomBytes(4).toString('hex')}`;
  const schemas = instances.map((n) => `${prefix}_${n}`);
  const storeUrl = (schema: string) => `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
  const out = join(here, 'results', 'postgres.json');
  try {
    log(`\nbench: Gatehouse on SQLite beside Gatehouse on PostgreSQL (${instances.join(', ')} instances)`);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          join(here, 'run.ts'),
          '--only-token-endpoint',
          '--contender',
          'gatehouse',
          ...instances.flatMap((n, i) => [
            '--postgres',
            `${contenderName(n)}:${n}:${storeUrl(schemas[i] as string)}`,
          ]),
          ...['--rounds', String(options.rounds), '--seconds', String(options.seconds)],
          ...['--warmup', String(options.warmup), '--connections', String(options.connections)],
          ...['--out', out],
        ],
        { env: { ...childEnv, GATEHOUSE_STORE: '' }, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      child.on('close', (c) => resolve(c ?? 1));
    });
    if (code !== 0) {
      log(`bench on PostgreSQL failed (exit ${code})`);
      return 1;
    }
    const results = JSON.parse(readFileSync(out, 'utf8')) as Results;
    const lines = [
      '',
      'Gatehouse token endpoint, PostgreSQL beside SQLite, side by side (median req/s, p99 ms, CPU µs per request:',
      'Gatehouse processes + PostgreSQL, all on this machine):',
    ];
    const scenarios: Scenario[] = ['client_credentials', 'refresh_token'];
    for (const scenario of scenarios) {
      const sqlite = results.summaries.find((x) => x.contender === 'gatehouse' && x.scenario === scenario);
      if (!sqlite) continue;
      lines.push(`  ${scenario}`);
      for (const s of results.summaries.filter((x) => x.scenario === scenario)) {
        const series = results.series.find((x) => x.contender === s.contender && x.scenario === scenario);
        const db = (series?.databaseCpu ?? []).filter((c): c is number => c !== undefined);
        const dbPerRequest = db.length
          ? median(series?.rps.map((rps, i) => (1e6 * (series.databaseCpu?.[i] ?? Number.NaN)) / rps) ?? [])
          : undefined;
        lines.push(
          `    ${(s.contender === 'gatehouse' ? 'SQLite' : s.contender).padEnd(12)} ${s.rps.toFixed(0).padStart(6)} req/s  p99 ${s.p99.toFixed(0).padStart(3)}  ` +
            `server ${s.cpuPerRequest?.toFixed(0) ?? '?'} µs` +
            (dbPerRequest === undefined ? '' : ` + PostgreSQL ${dbPerRequest.toFixed(0)} µs`) +
            `  ÷ SQLite ${(s.rps / sqlite.rps).toFixed(2)}×`,
        );
      }
    }
    const measured = new Set(results.series.map((s) => `${s.contender}/${s.scenario}`));
    const targets = TARGETS.filter(
      (t) => measured.has(`${t.subject}/${t.scenario}`) && measured.has(`${t.baseline}/${t.scenario}`),
    ).map((t) => checkTarget(t, results.series));
    lines.push(
      '',
      'Targets (PostgreSQL ÷ SQLite, one instance; ratio of medians, per-round ratios in brackets):',
    );
    for (const t of targets) {
      lines.push(
        `  ${t.pass ? 'PASS' : 'FAIL'}  ${t.scenario}: PostgreSQL ≥ ${t.factor}× SQLite: ${t.ratio.toFixed(2)}× [${t.roundRatios.map((r) => r.toFixed(2)).join(' ')}]`,
      );
    }
    lines.push(`Results: ${out}`, '');
    process.stdout.write(lines.join('\n'));
    return results.problems.length || targets.some((t) => !t.pass) ? 1 : 0;
  } finally {
    for (const schema of schemas)
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end().catch(() => {});
  }
}

// `node bench/postgres.ts [--rounds 5 --seconds 4 --warmup 2 --connections 16 --instances 1,2,3]`: this part alone.
if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      ...LOAD_OPTIONS,
      instances: { type: 'string', default: '1,2,3' },
    },
  });
  process.exit(
    await benchPostgres({
      rounds: Number(values.rounds),
      seconds: Number(values.seconds),
      warmup: Number(values.warmup),
      connections: Number(values.connections),
      instances: values.instances.split(',').map(Number),
    }),
  );
}
