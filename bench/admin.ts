/**
 * The admin overview's aggregate query (`Store.countAuditEvents`, one GROUP BY over the period)
 * on 1 million audit events, in SQLite and in PostgreSQL: the time per query for each period the
 * overview offers (1, 7, 30 days), with the number of events the period holds. Not a comparison
 * target; it says whether the overview stays quick on a large trail, and that the period's index
 * (audit_events_type_at) is used rather than the whole table read.
 *
 * The trail: 90 days of events, newest now, in the proportions a busy gateway writes them (mostly
 * `mcp.call` over 8 servers × 12 tools, tokens issued and refreshed, some refusals, failed
 * sign-ins and reuse detections, and event types the overview does not count). PostgreSQL is
 * skipped, with a message, when none answers at GATEHOUSE_BENCH_POSTGRES (default: the test server).
 *
 * Options: --events 1000000  --runs 5  --out bench/results/admin.json
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  OVERVIEW_PERIODS,
  OVERVIEW_TYPES,
  overviewWindow,
} from '../packages/server/src/admin/overview-data.ts';
import { SqliteStore } from '../packages/server/src/store/sqlite.ts';
import type { AuditEvent, Store } from '../packages/server/src/store/types.ts';
import { median } from './stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);
const DAY = 86_400;
const SPAN_DAYS = 90;

export interface AdminBenchOptions {
  events?: number;
  runs?: number;
  out?: string;
}

interface Row {
  store: string;
  days: number;
  /** Events of the overview's types inside the period. */
  events: number;
  /** GROUP BY rows returned. */
  groups: number;
  medianMs: number;
  minMs: number;
}

/** A deterministic pseudo-random sequence, so two runs load the same trail. */
function sequence(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/** The i-th event of the trail: `at` spread evenly over the span, types in a gateway's mix. */
function* trail(count: number, now: number): Generator<AuditEvent> {
  const random = sequence(42);
  const step = (SPAN_DAYS * DAY) / count;
  for (let i = 0; i < count; i++) {
    const at = Math.floor(now - SPAN_DAYS * DAY + i * step);
    const r = random();
    if (r < 0.6) {
      const o = random();
      yield {
        at,
        type: 'mcp.call',
        user_id: `user-${i % 500}`,
        client_id: `client-${i % 40}`,
        detail: {
          server: `server-${Math.floor(random() * 8)}`,
          method: 'tools/call',
          name: `tool-${Math.floor(random() * 12)}`,
          outcome: o < 0.9 ? 'allowed' : o < 0.97 ? 'denied' : 'upstream_error',
          duration_ms: Math.floor(random() * 200),
        },
      };
    } else if (r < 0.8) yield { at, type: 'token.issued', client_id: `client-${i % 40}`, grant_id: `g-${i}` };
    else if (r < 0.9)
      yield { at, type: 'token.refreshed', client_id: `client-${i % 40}`, grant_id: `g-${i}` };
    else if (r < 0.95) yield { at, type: 'login', user_id: `user-${i % 500}` };
    else if (r < 0.98) yield { at, type: 'login.failed', detail: { unknown_username: true } };
    else if (r < 0.985) yield { at, type: 'login.rate_limited', user_id: `user-${i % 500}` };
    else if (r < 0.99) yield { at, type: 'refresh.reuse_detected', grant_id: `g-${i}` };
    else yield { at, type: 'consent', user_id: `user-${i % 500}`, client_id: `client-${i % 40}` };
  }
}

async function load(store: Store, count: number, now: number): Promise<void> {
  let batch: AuditEvent[] = [];
  for (const event of trail(count, now)) {
    batch.push(event);
    if (batch.length === 1_000) {
      await store.appendAuditEvents(batch);
      batch = [];
    }
  }
  if (batch.length) await store.appendAuditEvents(batch);
}

async function measure(name: string, store: Store, now: number, runs: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const period of OVERVIEW_PERIODS.values()) {
    const window = overviewWindow(period, now);
    const query = { types: OVERVIEW_TYPES, ...window, bucketSeconds: period.bucketSeconds };
    const times: number[] = [];
    let counts = await store.countAuditEvents(query); // warm the cache once
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      counts = await store.countAuditEvents(query);
      times.push(performance.now() - start);
    }
    const row: Row = {
      store: name,
      days: period.days,
      events: counts.reduce((sum, c) => sum + c.count, 0),
      groups: counts.length,
      medianMs: Math.round(median(times) * 10) / 10,
      minMs: Math.round(Math.min(...times) * 10) / 10,
    };
    log(
      `  ${name.padEnd(10)} ${String(period.days).padStart(2)} days: ${String(row.events).padStart(7)} events, ${String(row.groups).padStart(5)} groups, median ${row.medianMs} ms (min ${row.minMs} ms)`,
    );
    rows.push(row);
  }
  return rows;
}

async function postgres(count: number, now: number, runs: number): Promise<Row[]> {
  const url =
    process.env.GATEHOUSE_BENCH_POSTGRES ??
    process.env.GATEHOUSE_TEST_POSTGRES ??
    'postgres://postgres@127.0.0.1:5432/test';
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  admin.on('error', () => {});
  try {
    await admin.connect();
  } catch (err) {
    log(`  PostgreSQL skipped: no server at ${url} (${(err as Error).message}).`);
    return [];
  }
  const schema = `gatehouse_bench_admin_${process.pid}`;
  const { openPostgresStore } = await import('../packages/store-postgres/src/index.ts');
  const target = new URL(url);
  target.searchParams.set('schema', schema);
  const store = await openPostgresStore({ connectionString: target.href });
  try {
    const started = performance.now();
    await load(store, count, now);
    await admin.query(`ANALYZE ${schema}.audit_events`);
    log(`  PostgreSQL: ${count} events loaded in ${Math.round((performance.now() - started) / 1000)} s`);
    return await measure('PostgreSQL', store, now, runs);
  } finally {
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

/** Runs the benchmark; resolves with an exit code (0 also when PostgreSQL is skipped). */
export async function benchAdmin(options: AdminBenchOptions = {}): Promise<number> {
  const count = options.events ?? 1_000_000;
  const runs = options.runs ?? 5;
  const out = options.out ?? resolve(here, 'results/admin.json');
  const now = Math.floor(Date.now() / 1000);
  log(
    `\nbench: the admin overview's aggregate query on ${count} audit events over ${SPAN_DAYS} days (${runs} runs each)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-admin-'));
  const rows: Row[] = [];
  try {
    const store = new SqliteStore(join(dir, 'gatehouse.db'));
    try {
      const started = performance.now();
      await load(store, count, now);
      log(`  SQLite: ${count} events loaded in ${Math.round((performance.now() - started) / 1000)} s`);
      rows.push(...(await measure('SQLite', store, now, runs)));
    } finally {
      await store.close();
    }
    rows.push(...(await postgres(count, now, runs)));
  } catch (err) {
    log(`admin bench failed: ${(err as Error).stack ?? err}`);
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        when: new Date().toISOString(),
        machine: { cpus: cpus().length, load: loadavg().map((l) => Math.round(l * 10) / 10) },
        events: count,
        spanDays: SPAN_DAYS,
        runs,
        rows,
      },
      null,
      2,
    )}\n`,
  );
  log(`  results: ${relative(process.cwd(), out)}`);
  return 0;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '5' },
      out: { type: 'string' },
    },
  });
  process.exit(
    await benchAdmin({
      events: Number(values.events),
      runs: Number(values.runs),
      ...(values.out ? { out: resolve(values.out) } : {}),
    }),
  );
}
