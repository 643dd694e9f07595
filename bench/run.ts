/**
 * `npm run bench`: the token endpoint of Gatehouse side by side with oidc-provider and with a bare
 * node:http + jose server (the ceiling), for `client_credentials` and `refresh_token`.
 *
 * Layout: every server in its own child process, the load generator in another, one contender
 * measured at a time, rounds interleaved (A B C, A B C, …) so that drift hits everyone alike, the
 * median per contender reported, and only ratios judged. Loopback traffic only; bounded in time.
 *
 * Then, unless --only-token-endpoint: PostgreSQL, the guard, the gateway and the admin overview's
 * aggregate query on 1 million audit events (bench/admin.ts).
 *
 * Options: --rounds 5  --seconds 4  --warmup 2  --connections 16  --out bench/results/latest.json
 *          --scenario client_credentials|refresh_token (repeatable; default both)
 *          --contender gatehouse|oidc-provider|ceiling (repeatable; default all, and only then are targets judged)
 *          --profile DIR (Gatehouse's server runs with --cpu-prof and writes its profile to DIR)
 *          --only-token-endpoint (skip the PostgreSQL, guard and gateway parts that otherwise follow)
 *          --postgres NAME:INSTANCES:URL (repeatable; used by bench/postgres.ts) adds a contender NAME:
 *            Gatehouse with INSTANCES `gatehouse serve` processes on the PostgreSQL store URL
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startGatehouse } from './contenders/gatehouse.ts';
import {
  cpuSeconds,
  cpuSecondsBetween,
  forkChild,
  nextMessage,
  processCpuSeconds,
  startForkedContender,
  stopChild,
} from './processes.ts';
import {
  BENCH_SCOPE,
  LOAD_OPTIONS,
  type LoadJob,
  type LoadResult,
  type ReadyMessage,
  type Scenario,
} from './protocol.ts';
import {
  checkTarget,
  formatMarkdown,
  formatTable,
  type Series,
  summarise,
  type Target,
  type TargetResult,
} from './stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    ...LOAD_OPTIONS,
    out: { type: 'string', default: resolve(here, 'results/latest.json') },
    profile: { type: 'string' },
    scenario: { type: 'string', multiple: true },
    contender: { type: 'string', multiple: true },
    'only-token-endpoint': { type: 'boolean', default: false },
    postgres: { type: 'string', multiple: true },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const connections = Number(values.connections);
for (const [name, value] of Object.entries({ rounds, seconds, connections })) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}

const ALL_SCENARIOS: Scenario[] = ['client_credentials', 'refresh_token'];
const SCENARIOS = ALL_SCENARIOS.filter((s) => !values.scenario || values.scenario.includes(s));
if (SCENARIOS.length === 0) throw new Error(`--scenario must be one of ${ALL_SCENARIOS.join(', ')}`);
/** Issue #14's targets for the token endpoint (PostgreSQL ÷ SQLite is judged in bench/postgres.ts). */
const TARGETS: Target[] = [
  { scenario: 'refresh_token', subject: 'gatehouse', baseline: 'oidc-provider', factor: 1.0 },
  { scenario: 'refresh_token', subject: 'gatehouse', baseline: 'ceiling', factor: 0.45 },
  { scenario: 'client_credentials', subject: 'gatehouse', baseline: 'ceiling', factor: 0.85 },
];

/** `--postgres NAME:INSTANCES:URL`: Gatehouse contenders on PostgreSQL. */
const POSTGRES = (values.postgres ?? []).map((spec) => {
  const [, name, instances, url] = /^([\w-]+):(\d+):(.+)$/.exec(spec) ?? [];
  if (!name || !url) throw new Error(`--postgres must be NAME:INSTANCES:URL, not ${spec}`);
  return { name, instances: Number(instances), url };
});

interface Contender {
  name: string;
  /** Every process of the contender (several for several instances). */
  pids: (number | undefined)[];
  /** The origins of several instances, over which the load is spread. */
  origins?: string[] | undefined;
  /** Measure PostgreSQL's CPU too. */
  database?: boolean;
  ready: ReadyMessage;
  mint(count: number): Promise<string[]>;
  stop(): Promise<void>;
}

const basic = (r: ReadyMessage) =>
  `Basic ${Buffer.from(`${encodeURIComponent(r.clientId)}:${encodeURIComponent(r.clientSecret)}`).toString('base64')}`;

async function forked(file: string, name: string): Promise<Contender> {
  const c = await startForkedContender(resolve(here, 'contenders', file), name);
  return { name, pids: [c.child.pid], ready: c.ready, mint: c.mint, stop: () => stopChild(c.child) };
}

const log = (line: string) => process.stderr.write(`${line}\n`);
/** Other work on the machine skews everyone; the load average before and after says how much there was. */
const loadAverageAtStart = loadavg()[0] as number;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

log(`bench: ${rounds} rounds × ${seconds} s, ${connections} connections, ${cpus().length} CPUs`);
const contenders: Contender[] = [];
const loadgen = forkChild(resolve(here, 'load.ts'), 'load');
let jobIds = 0;
let exitCode = 0;

/** One measurement of one contender; refresh chains start from freshly minted tokens. */
async function measure(
  c: Contender,
  scenario: Scenario,
  duration: number,
): Promise<LoadResult & { serverCpu?: number; databaseCpu?: number }> {
  const refreshTokens = scenario === 'refresh_token' ? await c.mint(connections * 2) : [];
  const job: LoadJob = {
    type: 'job',
    id: ++jobIds,
    tokenEndpoint: c.ready.tokenEndpoint,
    ...(c.origins ? { origins: c.origins } : {}),
    resource: c.ready.resource,
    authorization: basic(c.ready),
    scenario,
    refreshTokens,
    connections,
    seconds: duration,
  };
  const answer = nextMessage<LoadResult>(
    loadgen,
    (m) => m.type === 'result' && m.id === job.id,
    (duration + 30) * 1000,
  );
  const cpuNow = () => {
    const each = c.pids.map(cpuSeconds);
    return each.includes(undefined) ? undefined : (each as number[]).reduce((a, b) => a + b, 0);
  };
  const cpuBefore = cpuNow();
  const dbBefore = c.database ? processCpuSeconds('postgres') : undefined;
  loadgen.send(job);
  const result = await answer;
  const cpuAfter = cpuNow();
  const dbAfter = c.database ? processCpuSeconds('postgres') : undefined;
  if (result.error) throw new Error(`${c.name} ${scenario}: ${result.error}`);
  const serverCpu =
    cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / result.seconds;
  const databaseCpu =
    dbBefore === undefined || dbAfter === undefined
      ? undefined
      : cpuSecondsBetween(dbBefore, dbAfter) / result.seconds;
  return { ...result, serverCpu, ...(databaseCpu === undefined ? {} : { databaseCpu }) };
}

/** Before measuring: each contender really issues what the others issue, and really rotates. */
async function sanityCheck(c: Contender): Promise<Record<string, unknown>> {
  const post = async (body: Record<string, string>) => {
    const res = await fetch(c.ready.tokenEndpoint, {
      method: 'POST',
      headers: { authorization: basic(c.ready), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) throw new Error(`${c.name}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const cc = await post({ grant_type: 'client_credentials', scope: BENCH_SCOPE, resource: c.ready.resource });
  const header = decodeProtectedHeader(cc.access_token as string);
  const claims = decodeJwt(cc.access_token as string);
  if (
    header.alg !== 'ES256' ||
    claims.aud !== c.ready.resource ||
    claims.exp !== (claims.iat as number) + 3600
  ) {
    throw new Error(`${c.name} issued a different kind of token: ${JSON.stringify({ header, claims })}`);
  }
  const [first] = await c.mint(1);
  const rt = await post({ grant_type: 'refresh_token', refresh_token: first as string });
  if (typeof rt.refresh_token !== 'string' || rt.refresh_token === first) {
    throw new Error(`${c.name} did not rotate the refresh token`);
  }
  const rtClaims = decodeJwt(rt.access_token as string);
  return {
    alg: header.alg,
    typ: header.typ,
    aud: claims.aud,
    scope: claims.scope,
    refresh_aud: rtClaims.aud,
  };
}

try {
  const wanted = (name: string) => !values.contender || values.contender.includes(name);
  if (wanted('gatehouse')) contenders.push(await startGatehouseContender());
  for (const p of POSTGRES) {
    const g = await startGatehouse({ store: p.url, instances: p.instances });
    contenders.push({
      name: p.name,
      pids: g.children.map((child) => child.pid),
      origins: g.origins,
      database: true,
      ready: g.ready,
      mint: g.mint,
      stop: g.stop,
    });
  }
  if (wanted('oidc-provider')) contenders.push(await forked('oidc-provider.ts', 'oidc-provider'));
  if (wanted('ceiling')) contenders.push(await forked('ceiling.ts', 'ceiling'));
  if (contenders.length === 0) throw new Error('--contender must name gatehouse, oidc-provider or ceiling');
  if (POSTGRES.length) log(`[${elapsed()}] started ${contenders.map((c) => c.name).join(', ')}`);
  const tokens: Record<string, unknown> = {};
  for (const c of contenders) tokens[c.name] = await sanityCheck(c);
  log(`[${elapsed()}] all contenders issue ES256 JWTs for their resource and rotate refresh tokens`);

  if (warmup > 0) {
    for (const scenario of SCENARIOS) for (const c of contenders) await measure(c, scenario, warmup);
    log(`[${elapsed()}] warmed up`);
  }

  const series: Series[] = [];
  for (const scenario of SCENARIOS) {
    for (const c of contenders) {
      series.push({
        contender: c.name,
        scenario,
        rps: [],
        p50: [],
        p99: [],
        serverCpu: [],
        loadCpu: [],
        ...(c.database ? { databaseCpu: [] } : {}),
      });
    }
  }
  const problems: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const scenario of SCENARIOS) {
      for (const c of contenders) {
        const r = await measure(c, scenario, seconds);
        const s = series.find((x) => x.contender === c.name && x.scenario === scenario) as Series;
        s.rps.push(r.ok / r.seconds);
        s.p50.push(r.p50);
        s.p99.push(r.p99);
        s.serverCpu.push(r.serverCpu);
        s.loadCpu.push(r.cpuSeconds / r.seconds);
        s.databaseCpu?.push(r.databaseCpu);
        if (r.failed || r.errors || r.reused) {
          problems.push(
            `${c.name} ${scenario} round ${round}: ${r.failed} failed, ${r.errors} errors, ${r.reused} reused tokens ${r.samples.join(' | ')}`,
          );
        }
        log(`[${elapsed()}] round ${round} ${scenario} ${c.name}: ${(r.ok / r.seconds).toFixed(0)} req/s`);
      }
    }
  }

  const summaries = series.map(summarise);
  const measured = (name: string) => contenders.some((c) => c.name === name);
  const targets: TargetResult[] = TARGETS.filter(
    (t) => SCENARIOS.includes(t.scenario) && measured(t.subject) && measured(t.baseline),
  ).map((t) => checkTarget(t, series));
  const command = `npm run bench -- ${values['only-token-endpoint'] ? '--only-token-endpoint ' : ''}--rounds ${rounds} --seconds ${seconds} --warmup ${warmup} --connections ${connections}`;
  const machine = {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    load_average: { start: loadAverageAtStart, end: loadavg()[0] as number },
  };

  const out: string[] = [''];
  out.push(
    `Token endpoint throughput: median of ${rounds} interleaved rounds of ${seconds} s, ${connections} connections`,
  );
  out.push(
    `(${machine.cpus} CPUs, ${machine.cpu_model}, Node ${machine.node}; load average ${machine.load_average.start.toFixed(1)} → ${machine.load_average.end.toFixed(1)}; server CPU 100% = one core)`,
  );
  const markdown: Record<string, string> = {};
  // On PostgreSQL, each contender against Gatehouse on SQLite; otherwise against the peers.
  const ratioTo = POSTGRES.length ? ['gatehouse'] : ['oidc-provider', 'ceiling'];
  for (const scenario of SCENARIOS) {
    const rows = summaries.filter((s) => s.scenario === scenario);
    out.push('', scenario, formatTable(rows, ratioTo));
    markdown[scenario] = formatMarkdown(rows, ratioTo);
  }
  out.push('', 'Server CPU per request relative to the ceiling (less sensitive to other load; not judged):');
  for (const scenario of SCENARIOS) {
    const ceiling = summaries.find((s) => s.scenario === scenario && s.contender === 'ceiling');
    for (const s of summaries.filter((x) => x.scenario === scenario && x !== ceiling)) {
      if (ceiling?.cpuPerRequest && s.cpuPerRequest) {
        out.push(
          `  ${scenario}: ${s.contender} costs ${(s.cpuPerRequest / ceiling.cpuPerRequest).toFixed(2)}× the ceiling's CPU`,
        );
      }
    }
  }
  out.push('', 'Targets (ratio of medians; per-round ratios in brackets):');
  for (const t of targets) {
    const rounds = t.roundRatios.map((r) => r.toFixed(2)).join(' ');
    out.push(
      `  ${t.pass ? 'PASS' : 'FAIL'}  ${t.scenario}: ${t.subject} ≥ ${t.factor}× ${t.baseline}: ${t.ratio.toFixed(2)}× [${rounds}]`,
    );
  }
  if (problems.length) {
    out.push('', 'INVALID: some requests failed, so the numbers above do not measure the real work:');
    for (const p of problems) out.push(`  ${p}`);
  }
  out.push('', `Results: ${relative(process.cwd(), values.out as string)}`, `Command: ${command}`, '');
  process.stdout.write(out.join('\n'));

  mkdirSync(dirname(values.out as string), { recursive: true });
  writeFileSync(
    values.out as string,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        command,
        settings: { rounds, seconds, warmup, connections },
        machine,
        tokens,
        summaries,
        targets,
        series,
        problems,
        markdown,
      },
      null,
      2,
    )}\n`,
  );
  if (problems.length || targets.some((t) => !t.pass)) exitCode = 1;
} catch (err) {
  log(`bench failed: ${(err as Error).stack ?? err}`);
  exitCode = 1;
} finally {
  await Promise.all(contenders.map((c) => c.stop()));
  await stopChild(loadgen);
  log(`[${elapsed()}] done`);
}
const more = !values['only-token-endpoint'] && !process.env.GATEHOUSE_STORE;
if (more && (!values.contender || values.contender.includes('gatehouse')))
  exitCode = Math.max(
    exitCode,
    await (await import('./postgres.ts')).benchPostgres({ rounds, seconds, warmup, connections }),
  );
if (more && !values.contender)
  exitCode = Math.max(
    exitCode,
    await (await import('./guard.ts')).benchGuard({ rounds, seconds, warmup, connections }),
  );
if (more && !values.contender)
  exitCode = Math.max(
    exitCode,
    await (await import('./gateway.ts')).benchGateway({ rounds, seconds, warmup, connections }),
  );
if (more && !values.contender) exitCode = Math.max(exitCode, await (await import('./admin.ts')).benchAdmin());
process.exit(exitCode);

async function startGatehouseContender(): Promise<Contender> {
  const g = await startGatehouse({ profileDir: values.profile && resolve(values.profile) });
  return { name: 'gatehouse', pids: [g.child.pid], ready: g.ready, mint: g.mint, stop: g.stop };
}
