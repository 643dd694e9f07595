/**
 * The guard's price: MCP `tools/call` throughput of the demo server through the guard against the
 * same server without it, and the guard's cost of verifying a token it has not seen before.
 *
 * Layout: two server processes built alike (bench/guard-server.ts: the AS and the demo in one
 * process, as `gatehouse serve` runs them), one with the guard and one without, both sent the same
 * request with the same bearer token; the load generator (autocannon, keep-alive HTTP/1.1) in this
 * process; one server measured at a time, rounds interleaved (bare, guarded, bare, guarded, …),
 * medians reported and the ratio judged: guarded ÷ bare ≥ 0.97. Loopback traffic only.
 *
 * The cold cost is measured inside the guarded process, in the same run: the guard (`guard.wrap`
 * around a handler that answers at once) on a `tools/call` with a fresh token (signature and claims
 * verified) against the same token again (verified-token cache), in microseconds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { GuardColdReply, GuardReady } from './guard-protocol.ts';
import { toolsCallBody } from './guard-protocol.ts';
import { cpuSeconds, forkChild, nextMessage, stopChild } from './processes.ts';
import { median } from './stats.ts';

export interface GuardBenchOptions {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  /** Where the results go; default bench/results/guard.json. */
  out?: string;
}

/** guarded ÷ bare throughput must reach this. */
export const GUARD_TARGET = 0.97;
const COLD_SAMPLES = 300;

const here = dirname(fileURLToPath(import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Variant {
  name: 'bare' | 'guarded';
  child: ReturnType<typeof forkChild>;
  ready: GuardReady;
}

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  /** Server CPU per request, microseconds (undefined off Linux). */
  cpuPerRequest: number | undefined;
  sample?: string;
}

const headersFor = (token: string) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
});

async function startVariant(name: Variant['name']): Promise<Variant> {
  const child = forkChild(resolve(here, 'guard-server.ts'), `guard-${name}`);
  const ready = nextMessage<GuardReady>(child, (m) => m.type === 'ready');
  child.send({ type: 'start', guarded: name === 'guarded' });
  return { name, child, ready: await ready };
}

/** Both answer the call; only the guarded one refuses it without the token (the guard is really there). */
async function sanityCheck(v: Variant): Promise<void> {
  const call = (headers: Record<string, string>) =>
    fetch(v.ready.url, { method: 'POST', headers, body: toolsCallBody });
  const ok = await call(headersFor(v.ready.token));
  const text = await ok.text();
  if (ok.status !== 200 || !text.includes('Welcome'))
    throw new Error(`${v.name}: ${ok.status} ${text.slice(0, 300)}`);
  const { authorization: _, ...anonymous } = headersFor(v.ready.token);
  const status = (await call(anonymous)).status;
  if (v.name === 'guarded' ? status !== 401 : status !== 200) {
    throw new Error(`${v.name} answered ${status} without a token`);
  }
}

async function measure(v: Variant, connections: number, seconds: number): Promise<Measurement> {
  const url = new URL(v.ready.url);
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let sample: string | undefined;
  const cpuBefore = cpuSeconds(v.child.pid);
  const started = performance.now();
  const result = await autocannon({
    url: url.origin,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: url.pathname,
        headers: headersFor(v.ready.token),
        body: toolsCallBody,
        setupRequest(req: Record<string, unknown>, context: Record<string, unknown>) {
          context.started = performance.now();
          return req;
        },
        onResponse(status: number, body: string, context: Record<string, unknown>) {
          if (status === 200 && body.includes('Welcome')) {
            ok++;
            latencies.push(performance.now() - (context.started as number));
          } else {
            failed++;
            sample ??= `${status} ${body.slice(0, 200)}`;
          }
        },
      } as never,
    ],
  });
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = cpuSeconds(v.child.pid);
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? NaN;
  return {
    rps: ok / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    failed: failed + result.errors + result.timeouts,
    cpuPerRequest:
      cpuBefore === undefined || cpuAfter === undefined || ok === 0
        ? undefined
        : ((cpuAfter - cpuBefore) / ok) * 1e6,
    ...(sample ? { sample } : {}),
  };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
};

/**
 * Runs the guard benchmark and prints its table; resolves with an exit code (1 when the target is
 * missed or requests failed).
 */
export async function benchGuard(options: GuardBenchOptions): Promise<number> {
  const out = options.out ?? resolve(here, 'results/guard.json');
  const variants: Variant[] = [];
  try {
    log(
      `\nbench: the guard, MCP tools/call through it and without it (${options.rounds} rounds × ${options.seconds} s)`,
    );
    variants.push(await startVariant('bare'), await startVariant('guarded'));
    for (const v of variants) await sanityCheck(v);
    if (options.warmup > 0) for (const v of variants) await measure(v, options.connections, options.warmup);

    const series: Record<Variant['name'], Measurement[]> = { bare: [], guarded: [] };
    for (let round = 1; round <= options.rounds; round++) {
      for (const v of variants) {
        const m = await measure(v, options.connections, options.seconds);
        series[v.name].push(m);
        log(`  round ${round} ${v.name}: ${m.rps.toFixed(0)} req/s`);
      }
    }
    const guarded = variants.find((v) => v.name === 'guarded') as Variant;
    const id = Date.now();
    const coldReply = nextMessage<GuardColdReply>(
      guarded.child,
      (m) => m.type === 'cold' && m.id === id,
      120_000,
    );
    guarded.child.send({ type: 'cold', id, count: COLD_SAMPLES });
    const cold = await coldReply;

    const summary = (name: Variant['name']) => {
      const s = series[name];
      const cpu = s.map((m) => m.cpuPerRequest).filter((c): c is number => c !== undefined);
      return {
        rps: median(s.map((m) => m.rps)),
        p50: median(s.map((m) => m.p50)),
        p99: median(s.map((m) => m.p99)),
        cpuPerRequest: cpu.length ? median(cpu) : undefined,
      };
    };
    const bare = summary('bare');
    const withGuard = summary('guarded');
    const ratio = withGuard.rps / bare.rps;
    const roundRatios = series.guarded.map((m, i) => m.rps / (series.bare[i] as Measurement).rps);
    // Server CPU per request barely moves with others' load, unlike req/s: the steadier view of the guard's price.
    const cpuRatio =
      withGuard.cpuPerRequest !== undefined && bare.cpuPerRequest !== undefined
        ? withGuard.cpuPerRequest / bare.cpuPerRequest
        : undefined;
    const coldUs = { p50: median(cold.cold), p99: percentile(cold.cold, 0.99) };
    const cachedUs = { p50: median(cold.cached), p99: percentile(cold.cached, 0.99) };
    const problems = [...series.bare, ...series.guarded]
      .filter((m) => m.failed > 0)
      .map((m) => `${m.failed} failed (${m.sample ?? 'socket errors'})`);

    // Others' work on the machine skews one variant's rounds more than the other's: say so.
    const load = loadavg()[0] ?? 0;
    const busy = load > cpus().length;
    const row = (name: string, s: ReturnType<typeof summary>) =>
      `${name.padEnd(16)}${s.rps.toFixed(0).padStart(8)}${s.p50.toFixed(2).padStart(9)}${s.p99.toFixed(2).padStart(9)}${(s.cpuPerRequest === undefined ? '-' : s.cpuPerRequest.toFixed(0)).padStart(14)}`;
    const pass = ratio >= GUARD_TARGET && problems.length === 0;
    const lines = [
      '',
      `Guard: MCP tools/call (database query), median of ${options.rounds} interleaved rounds of ${options.seconds} s, ${options.connections} connections`,
      `${'server'.padEnd(16)}${'req/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'CPU µs/req'.padStart(14)}`,
      row('without guard', bare),
      row('with guard', withGuard),
      '',
      `  ${pass ? 'PASS' : 'FAIL'}  with guard ≥ ${GUARD_TARGET}× without: ${ratio.toFixed(3)}× [${roundRatios.map((r) => r.toFixed(3)).join(' ')}]`,
      ...(cpuRatio === undefined
        ? []
        : [
            `        server CPU per request, with ÷ without: ${cpuRatio.toFixed(3)}× (steadier under others' load)`,
          ]),
      `  the guard per tools/call (guard.wrap in process, ${COLD_SAMPLES} tokens): first use ${coldUs.p50.toFixed(0)} µs (p99 ${coldUs.p99.toFixed(0)}), cached ${cachedUs.p50.toFixed(0)} µs (p99 ${cachedUs.p99.toFixed(0)})`,
      ...(busy
        ? [
            `  WARNING: load average ${load.toFixed(1)} on ${cpus().length} CPUs during the run: other work competed, so the ratio is not trustworthy`,
          ]
        : []),
      ...(problems.length ? ['', 'INVALID: some requests failed:', ...problems.map((p) => `  ${p}`)] : []),
      '',
      `Results: ${relative(process.cwd(), out)}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    const markdown = [
      '| server | req/s | p50 ms | p99 ms | server CPU µs/req |',
      '| --- | --- | --- | --- | --- |',
      ...(
        [
          ['without guard', bare],
          ['with guard', withGuard],
        ] as const
      ).map(
        ([name, s]) =>
          `| ${name} | ${s.rps.toFixed(0)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.cpuPerRequest?.toFixed(0) ?? '-'} |`,
      ),
    ].join('\n');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          settings: { ...options, out: undefined, coldSamples: COLD_SAMPLES },
          machine: {
            cpus: cpus().length,
            cpu_model: cpus()[0]?.model,
            node: process.version,
            loadavg: loadavg(),
          },
          bare,
          guarded: withGuard,
          target: { factor: GUARD_TARGET, ratio, roundRatios, pass },
          cpuPerRequestRatio: cpuRatio,
          verificationMicros: { firstUse: coldUs, cached: cachedUs },
          series,
          problems,
          markdown,
        },
        null,
        2,
      )}\n`,
    );
    return pass ? 0 : 1;
  } catch (err) {
    log(`guard bench failed: ${(err as Error).stack ?? err}`);
    return 1;
  } finally {
    await Promise.all(variants.map((v) => stopChild(v.child)));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? fallback : Number(process.argv[i + 1]);
  };
  process.exitCode = await benchGuard({
    rounds: arg('rounds', 5),
    seconds: arg('seconds', 4),
    warmup: arg('warmup', 2),
    connections: arg('connections', 16),
  });
}
