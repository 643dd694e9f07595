/**
 * The gateway's price, two ways, against real MCP servers from npm:
 *
 * 1. Streamable HTTP: `tools/call` (the "everything" server's `echo`) through `gatehouse serve
 *    --config` (guard + bridge + the pool's SDK client) against the same upstream process called
 *    directly on its own session. autocannon (keep-alive HTTP/1.1) in this process, one target at a
 *    time, rounds interleaved (direct, gateway, direct, …), medians; judged: gateway ÷ direct
 *    throughput ≥ 0.9 and p50 added ≤ 1 ms.
 *    A third target is the floor: the bare SDK-to-SDK proxy (bench/contenders/mcp-proxy.ts, no
 *    Gatehouse in between) to the same upstream, so the report says what any SDK-built gateway
 *    costs on this machine and what is Gatehouse's own.
 * 2. stdio: the round trip of one call at a time through the gateway (HTTP in, stdio out) against
 *    the SDK v2 stdio client calling the same server (`everything` over stdio) directly. Reported,
 *    not judged: the gateway adds an HTTP hop the direct client does not make.
 *
 * Everything runs on loopback, in child processes started the way the e2e tests start them
 * (e2e/gateway/upstreams.ts, e2e/helpers/gatehouse-cli.ts). Run alone with `node bench/gateway.ts`
 * (same options as `npm run bench`), or as part of `npm run bench`.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import autocannon from 'autocannon';
import { EVERYTHING_SERVER, type HttpUpstream, startEverythingHttp } from '../e2e/gateway/upstreams.ts';
import { authorize, tokenRequest } from '../e2e/helpers/agent.ts';
import { addClient, addUser, type RunningGatehouse, serve } from '../e2e/helpers/gatehouse-cli.ts';
import { tempDir } from '../e2e/helpers/temp.ts';
import { cpuSeconds } from './processes.ts';
import { LOAD_OPTIONS } from './protocol.ts';
import { median } from './stats.ts';

export interface GatewayBenchOptions {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  /** Sequential calls per round of the stdio round trip (default 200). */
  calls?: number;
  /** Where the results go; default bench/results/gateway.json. */
  out?: string;
}

/** gateway ÷ direct throughput must reach this, and the p50 added stay under ADDED_P50_MS. */
export const GATEWAY_TARGET = 0.9;
export const ADDED_P50_MS = 1;

const here = dirname(fileURLToPath(import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);
const PROTOCOL = '2025-11-25';
const MESSAGE = 'bench';
const ECHO = `Echo: ${MESSAGE}`;
const toolsCall = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: { message: MESSAGE } },
});
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

type TargetName = 'direct' | 'sdk proxy' | 'gateway';

interface Target {
  name: TargetName;
  url: string;
  headers: Record<string, string>;
  /** The process between the client and the upstream (gateway or proxy), whose CPU is read. */
  between?: number | undefined;
}

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  /**
   * CPU per answered call, microseconds, of the upstream and of the process in between
   * (`gatehouse serve` or the bare SDK proxy; undefined off Linux or when there is none).
   */
  upstreamCpu: number | undefined;
  betweenCpu: number | undefined;
  sample?: string;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;

const mcpHeaders = (extra: Record<string, string>) => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': PROTOCOL,
  ...extra,
});

/** Throughput and latency of `tools/call` at one target, counting only answers that hold the echo. */
async function measure(
  target: Target,
  upstreamPid: number,
  connections: number,
  seconds: number,
): Promise<Measurement> {
  const url = new URL(target.url);
  const cpuBefore = { upstream: cpuSeconds(upstreamPid), between: cpuSeconds(target.between) };
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let sample: string | undefined;
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
        headers: target.headers,
        body: toolsCall,
        setupRequest(req, context) {
          context.started = performance.now();
          return req;
        },
        onResponse(status, body, context) {
          if (status === 200 && body.includes(ECHO)) {
            ok++;
            latencies.push(performance.now() - (context.started as number));
          } else {
            failed++;
            sample ??= `${status} ${body.slice(0, 200)}`;
          }
        },
      },
    ],
  });
  const elapsed = (performance.now() - started) / 1000;
  const perCall = (before: number | undefined, after: number | undefined) =>
    before === undefined || after === undefined || ok === 0 ? undefined : ((after - before) / ok) * 1e6;
  latencies.sort((a, b) => a - b);
  return {
    rps: ok / elapsed,
    upstreamCpu: perCall(cpuBefore.upstream, cpuSeconds(upstreamPid)),
    betweenCpu: perCall(cpuBefore.between, cpuSeconds(target.between)),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    failed: failed + result.errors + result.timeouts,
    ...(sample ? { sample } : {}),
  };
}

/** A session of our own on the upstream (it is stateful): initialize, then `notifications/initialized`. */
async function directSession(url: string): Promise<Record<string, string>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: mcpHeaders({}),
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL,
        capabilities: {},
        clientInfo: { name: 'bench', version: '1.0.0' },
      },
    }),
  });
  const session = response.headers.get('mcp-session-id');
  await response.text();
  if (response.status !== 200 || !session) throw new Error(`initialize at the upstream: ${response.status}`);
  const headers = mcpHeaders({ 'mcp-session-id': session });
  const initialized = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  await initialized.text();
  return headers;
}

/** An access token for `resource`, through sign-in, consent and PKCE as a person would get it. */
async function tokenFor(gatehouse: RunningGatehouse, clientId: string, resource: string, scope: string) {
  const flow = await authorize({
    issuer: gatehouse.issuer,
    clientId,
    redirectUri: REDIRECT_URI,
    username: 'bench',
    password: 'bench-password-123',
    scope,
    resource,
  });
  const token = await tokenRequest(gatehouse.issuer, {
    grant_type: 'authorization_code',
    code: flow.params.code as string,
    redirect_uri: REDIRECT_URI,
    client_id: clientId,
    code_verifier: flow.verifier,
    resource,
  });
  if (token.status !== 200) throw new Error(`token: ${token.status} ${JSON.stringify(token.body)}`);
  return token.body.access_token as string;
}

interface Proxy {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The bare SDK-to-SDK proxy (bench/contenders/mcp-proxy.ts) to `upstream`, in its own process. */
async function startProxy(upstream: string): Promise<Proxy> {
  const child = spawn(process.execPath, [join(here, 'contenders/mcp-proxy.ts'), upstream], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let out = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
      const match = /listening (\S+)/.exec(out);
      if (match) resolveUrl(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`the SDK proxy exited (${code})`)));
  });
  return {
    url,
    pid: child.pid as number,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Milliseconds of each of `count` sequential calls. */
async function roundTrips(count: number, call: () => Promise<string>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const answer = await call();
    times.push(performance.now() - started);
    if (!answer.includes(ECHO)) throw new Error(`unexpected answer: ${answer.slice(0, 200)}`);
  }
  return times;
}

/** Runs the gateway benchmark and prints its tables; resolves with an exit code (1 on a missed target or failures). */
export async function benchGateway(options: GatewayBenchOptions): Promise<number> {
  const out = options.out ?? resolve(here, 'results/gateway.json');
  const calls = options.calls ?? 200;
  const data = await tempDir('gatehouse-bench-gateway-');
  let upstream: HttpUpstream | undefined;
  let gatehouse: RunningGatehouse | undefined;
  let proxy: Proxy | undefined;
  let stdio: Client | undefined;
  try {
    log(
      `\nbench: the gateway, MCP tools/call through it and to the same upstream directly (${options.rounds} rounds × ${options.seconds} s; stdio ${calls} calls per round)`,
    );
    upstream = await startEverythingHttp();
    await addUser(data.dir, 'bench', 'bench-password-123');
    const { client_id } = await addClient(data.dir, { name: 'Gateway bench', redirectUris: [REDIRECT_URI] });
    const config = join(data.dir, 'gatehouse.json');
    await writeFile(
      config,
      JSON.stringify({
        mcpServers: {
          everything: { url: upstream.url },
          'everything-stdio': { command: process.execPath, args: [EVERYTHING_SERVER, 'stdio'] },
        },
      }),
    );
    gatehouse = await serve(data.dir, { config, timeoutMs: 30_000, env: { NODE_ENV: 'production' } });
    const http = `${gatehouse.issuer}/mcp/everything`;
    const overStdio = `${gatehouse.issuer}/mcp/everything-stdio`;
    proxy = await startProxy(upstream.url);
    const targets: Target[] = [
      { name: 'direct', url: upstream.url, headers: await directSession(upstream.url) },
      { name: 'sdk proxy', url: proxy.url, headers: mcpHeaders({}), between: proxy.pid },
      {
        name: 'gateway',
        url: http,
        between: gatehouse.child.pid,
        headers: mcpHeaders({
          authorization: `Bearer ${await tokenFor(gatehouse, client_id, http, 'tools:execute:everything')}`,
        }),
      },
    ];
    const stdioToken = await tokenFor(gatehouse, client_id, overStdio, 'tools:execute:everything-stdio');
    const throughGateway = async () => {
      const response = await fetch(overStdio, {
        method: 'POST',
        headers: mcpHeaders({ authorization: `Bearer ${stdioToken}` }),
        body: toolsCall,
      });
      return `${response.status} ${await response.text()}`;
    };
    stdio = new Client({ name: 'bench', version: '1.0.0' });
    await stdio.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [EVERYTHING_SERVER, 'stdio'],
        stderr: 'ignore',
      }),
    );
    const direct = stdio;
    const directly = async () =>
      JSON.stringify((await direct.callTool({ name: 'echo', arguments: { message: MESSAGE } })).content);

    // Both answer, and the gateway really guards: no token, no echo.
    for (const t of targets) {
      const m = await measure(t, upstream.pid, 1, 1);
      if (m.failed || m.rps === 0) throw new Error(`${t.name}: ${m.sample ?? 'no answer'}`);
    }
    const anonymous = await fetch(http, { method: 'POST', headers: mcpHeaders({}), body: toolsCall });
    if (anonymous.status !== 401) throw new Error(`the gateway answered ${anonymous.status} without a token`);
    await roundTrips(20, throughGateway);
    await roundTrips(20, directly);
    if (options.warmup > 0)
      for (const t of targets) await measure(t, upstream.pid, options.connections, options.warmup);

    const series: Record<TargetName, Measurement[]> = { direct: [], 'sdk proxy': [], gateway: [] };
    const trips: Record<'direct' | 'gateway', number[]> = { direct: [], gateway: [] };
    for (let round = 1; round <= options.rounds; round++) {
      for (const t of targets) {
        const m = await measure(t, upstream.pid, options.connections, options.seconds);
        series[t.name].push(m);
        log(`  round ${round} http ${t.name}: ${m.rps.toFixed(0)} req/s, p50 ${m.p50.toFixed(2)} ms`);
      }
      trips.direct.push(...(await roundTrips(calls, directly)));
      trips.gateway.push(...(await roundTrips(calls, throughGateway)));
      log(`  round ${round} stdio: ${calls} round trips each way`);
    }

    const cpu = (values: (number | undefined)[]) => {
      const known = values.filter((v): v is number => v !== undefined);
      return known.length ? median(known) : undefined;
    };
    const summary = (name: TargetName) => ({
      rps: median(series[name].map((m) => m.rps)),
      p50: median(series[name].map((m) => m.p50)),
      p99: median(series[name].map((m) => m.p99)),
      upstreamCpu: cpu(series[name].map((m) => m.upstreamCpu)),
      betweenCpu: cpu(series[name].map((m) => m.betweenCpu)),
    });
    const bare = summary('direct');
    const gated = summary('gateway');
    const floor = summary('sdk proxy');
    const ratio = gated.rps / bare.rps;
    const floorRatio = floor.rps / bare.rps;
    const roundRatios = series.gateway.map((m, i) => m.rps / (series.direct[i] as Measurement).rps);
    const addedP50 = gated.p50 - bare.p50;
    const sorted = (name: keyof typeof trips) => [...trips[name]].sort((a, b) => a - b);
    const rt = (name: keyof typeof trips) => ({
      p50: percentile(sorted(name), 0.5),
      p99: percentile(sorted(name), 0.99),
    });
    const stdioDirect = rt('direct');
    const stdioGateway = rt('gateway');
    const problems = [...series.direct, ...series['sdk proxy'], ...series.gateway]
      .filter((m) => m.failed > 0)
      .map((m) => `${m.failed} failed (${m.sample ?? 'socket errors'})`);
    const pass = ratio >= GATEWAY_TARGET && addedP50 <= ADDED_P50_MS && problems.length === 0;
    const load = loadavg()[0] ?? 0;
    const micros = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(0));
    const row = (name: string, s: ReturnType<typeof summary>) =>
      `${name.padEnd(18)}${s.rps.toFixed(0).padStart(8)}${s.p50.toFixed(2).padStart(9)}${s.p99.toFixed(2).padStart(9)}${micros(s.upstreamCpu).padStart(16)}${micros(s.betweenCpu).padStart(18)}`;
    const command = `node bench/gateway.ts --rounds ${options.rounds} --seconds ${options.seconds} --warmup ${options.warmup} --connections ${options.connections}`;
    const lines = [
      '',
      `Gateway, Streamable HTTP upstream (server-everything, echo): median of ${options.rounds} interleaved rounds of ${options.seconds} s, ${options.connections} connections`,
      `${'path'.padEnd(18)}${'req/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'upstream µs/req'.padStart(16)}${'between µs/req'.padStart(18)}`,
      row('direct', bare),
      row('bare SDK proxy', floor),
      row('through gateway', gated),
      '',
      `  floor: the bare SDK-to-SDK proxy (no Gatehouse) reaches ${floorRatio.toFixed(3)}× direct, p50 added ${(floor.p50 - bare.p50).toFixed(2)} ms; the gateway reaches ${(gated.rps / floor.rps).toFixed(3)}× the proxy`,
      `  ${pass ? 'PASS' : 'FAIL'}  gateway ≥ ${GATEWAY_TARGET}× direct: ${ratio.toFixed(3)}× [${roundRatios.map((r) => r.toFixed(3)).join(' ')}]; p50 added ${addedP50.toFixed(2)} ms (target ≤ ${ADDED_P50_MS} ms)`,
      '',
      `Gateway, stdio upstream (server-everything, echo): ${trips.direct.length} sequential round trips each`,
      `  SDK v2 stdio client, direct:      p50 ${stdioDirect.p50.toFixed(2)} ms, p99 ${stdioDirect.p99.toFixed(2)} ms`,
      `  HTTP through the gateway to stdio: p50 ${stdioGateway.p50.toFixed(2)} ms, p99 ${stdioGateway.p99.toFixed(2)} ms (added p50 ${(stdioGateway.p50 - stdioDirect.p50).toFixed(2)} ms)`,
      ...(load > cpus().length
        ? [
            `  WARNING: load average ${load.toFixed(1)} on ${cpus().length} CPUs during the run: other work competed, so the figures are not trustworthy`,
          ]
        : []),
      ...(problems.length ? ['', 'INVALID: some requests failed:', ...problems.map((p) => `  ${p}`)] : []),
      '',
      `Results: ${relative(process.cwd(), out)}`,
      `Command: ${command}`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          command,
          settings: { ...options, calls, out: undefined },
          machine: {
            cpus: cpus().length,
            cpu_model: cpus()[0]?.model,
            node: process.version,
            loadavg: loadavg(),
          },
          http: {
            direct: bare,
            sdkProxy: floor,
            gateway: gated,
            ratio,
            floorRatio,
            gatewayToFloor: gated.rps / floor.rps,
            roundRatios,
            addedP50Ms: addedP50,
            pass,
          },
          stdio: { direct: stdioDirect, gateway: stdioGateway, calls: trips.direct.length },
          series,
          problems,
        },
        null,
        2,
      )}\n`,
    );
    return pass ? 0 : 1;
  } catch (err) {
    log(`gateway bench failed: ${(err as Error).stack ?? err}`);
    return 1;
  } finally {
    await stdio?.close();
    await proxy?.stop();
    await gatehouse?.stop();
    await upstream?.stop();
    await data.remove();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      ...LOAD_OPTIONS,
      calls: { type: 'string', default: '200' },
      out: { type: 'string' },
    },
  });
  process.exit(
    await benchGateway({
      rounds: Number(values.rounds),
      seconds: Number(values.seconds),
      warmup: Number(values.warmup),
      connections: Number(values.connections),
      calls: Number(values.calls),
      ...(values.out ? { out: resolve(values.out) } : {}),
    }),
  );
}
