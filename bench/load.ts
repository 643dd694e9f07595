/**
 * The load generator, in its own process: runs one measurement at a time with autocannon
 * (keep-alive HTTP/1.1 connections, no pipelining) and reports throughput and latency.
 *
 * For `refresh_token` every connection follows its own rotation chain: each request presents the
 * refresh token that the previous response on the same connection returned, so every request uses
 * a fresh token. Autocannon calls `onResponse` and then, synchronously, `setupRequest` for the
 * same connection, which is what the hand-over below relies on; the `reused` count checks it.
 *
 * Run as a child process of bench/run.ts (IPC channel required).
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { BENCH_SCOPE, type LoadJob, type LoadResult } from './protocol.ts';

const MAX_SAMPLES = 5;

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

async function run(job: LoadJob): Promise<LoadResult> {
  const url = new URL(job.tokenEndpoint);
  const latencies: number[] = [];
  const samples: string[] = [];
  let ok = 0;
  let failed = 0;
  let reused = 0;
  const pool = [...job.refreshTokens];
  const used = new Set<string>();
  /** The refresh token the response just processed handed to its connection's next request. */
  let handOver: string | undefined;

  const fail = (status: number, body: string) => {
    failed++;
    if (samples.length < MAX_SAMPLES) samples.push(`${status} ${body.slice(0, 300)}`);
  };

  const ccBody = new URLSearchParams({
    grant_type: 'client_credentials',
    scope: BENCH_SCOPE,
    resource: job.resource,
  }).toString();

  const request = {
    method: 'POST',
    path: url.pathname,
    headers: {
      authorization: job.authorization,
      'content-type': 'application/x-www-form-urlencoded',
    },
    setupRequest(req: Record<string, unknown>, context: Record<string, unknown>) {
      context.started = performance.now();
      if (job.scenario === 'client_credentials') return { ...req, body: ccBody };
      const token = handOver ?? pool.pop();
      handOver = undefined;
      if (token === undefined) throw new Error('the refresh token pool ran dry (too many broken chains)');
      if (used.has(token)) reused++;
      used.add(token);
      return { ...req, body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(token)}` };
    },
    onResponse(status: number, body: string, context: Record<string, unknown>) {
      const latency = performance.now() - (context.started as number);
      if (status !== 200) return fail(status, body);
      if (job.scenario === 'refresh_token') {
        let next: unknown;
        try {
          next = (JSON.parse(body) as { refresh_token?: unknown }).refresh_token;
        } catch {}
        if (typeof next !== 'string') return fail(status, body);
        handOver = next;
      } else if (!body.includes('"access_token"')) return fail(status, body);
      ok++;
      latencies.push(latency);
    },
  };

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await autocannon({
    // autocannon spreads connections over several URLs (round robin); its types know only one.
    url: (job.origins ?? url.origin) as string,
    connections: job.connections,
    pipelining: 1,
    duration: job.seconds,
    timeout: 10,
    requests: [request as never],
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = Float64Array.from(latencies).sort();
  return {
    type: 'result',
    id: job.id,
    ok,
    failed,
    errors: result.errors + result.timeouts,
    reused,
    samples,
    seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

process.on('message', async (job: LoadJob) => {
  if (job.type !== 'job') return;
  try {
    process.send?.(await run(job));
  } catch (err) {
    process.send?.({ type: 'result', id: job.id, error: String(err) });
  }
});
