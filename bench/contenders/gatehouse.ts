/**
 * Gatehouse as a user runs it: `gatehouse serve` on a fresh data folder (the embedded SQLite store
 * in a temp folder, the product's default), with a user and a confidential client added by the CLI.
 * Refresh tokens come from the real authorization code flow over HTTP (sign in once, consent once,
 * then one authorize + one code exchange per token), so nothing the token endpoint does is skipped.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPkcePair } from '@gatehouse/core';
import { childEnv, relayOutput, stopChild } from '../processes.ts';
import { BENCH_REDIRECT_URI, BENCH_SCOPE, type ReadyMessage } from '../protocol.ts';

const CLI = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
const USERNAME = 'bench';
const PASSWORD = 'bench-password-long-enough';

function cli(args: string[], env: NodeJS.ProcessEnv, input?: string): string {
  return execFileSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env });
}

/** A port free a moment ago, for an instance that announces another's issuer (and so not its own port). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Waits for `gatehouse serve` to print its issuer. */
function issuerOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /Issuer \(authorization server\):\s+(\S+)/.exec(seen);
      if (match) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gatehouse serve exited (${code}): ${seen}`)));
  });
}

/**
 * `profileDir`: run the server with `--cpu-prof`, writing its profile there when it stops.
 * `store`: a `postgres://` URL (GATEHOUSE_STORE) instead of SQLite in the data folder.
 * `instances`: that many `gatehouse serve` processes on the one store, announcing one issuer (the
 * first's URL) and sharing one master secret, as behind a load balancer; the load generator
 * spreads its connections over them.
 */
export async function startGatehouse(
  options: { profileDir?: string | undefined; store?: string; instances?: number } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const env: NodeJS.ProcessEnv = options.store
    ? { ...childEnv, GATEHOUSE_STORE: options.store, GATEHOUSE_SECRET: randomBytes(32).toString('base64url') }
    : { ...childEnv, GATEHOUSE_STORE: '' };
  cli(['users', 'add', USERNAME, '--password-stdin', '--data', dir], env, `${PASSWORD}\n`);
  const client = JSON.parse(
    cli(
      [
        'clients',
        'add',
        '--name',
        'Benchmark',
        '--redirect-uri',
        BENCH_REDIRECT_URI,
        '--confidential',
        '--scope',
        BENCH_SCOPE,
        '--json',
        '--data',
        dir,
      ],
      env,
    ),
  ) as { client_id: string; client_secret: string };

  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const start = (extra: string[]) => {
    const c = spawn(process.execPath, [...profile, CLI, 'serve', '--data', dir, ...extra], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    relayOutput(c, 'gatehouse', true);
    return c;
  };
  const child = start(['--port', '0']);
  const issuer = await issuerOf(child);
  // Further instances announce the first one's issuer; each prints its own listening address.
  const others: { child: ChildProcess; origin: string }[] = [];
  for (let i = 1; i < (options.instances ?? 1); i++) {
    const port = await freePort();
    const c = start(['--port', String(port), '--issuer', issuer]);
    await issuerOf(c);
    others.push({ child: c, origin: `http://127.0.0.1:${port}` });
  }
  const ready: ReadyMessage = {
    type: 'ready',
    tokenEndpoint: `${issuer}/oauth/token`,
    resource: `${issuer}/mcp`,
    clientId: client.client_id,
    clientSecret: client.client_secret,
  };
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`;

  // The browser's side of the flow: one cookie jar for every token minted.
  const cookies = new Map<string, string>();
  async function send(path: string, form?: Record<string, string>, headers: Record<string, string> = {}) {
    const res = await fetch(new URL(path, issuer), {
      method: form ? 'POST' : 'GET',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      body: form ? new URLSearchParams(form) : undefined,
      redirect: 'manual',
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

  async function mintOne(): Promise<string> {
    const { code_verifier, code_challenge } = createPkcePair();
    const authorize = new URL('/oauth/authorize', issuer);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: BENCH_REDIRECT_URI,
      code_challenge,
      code_challenge_method: 'S256',
      state: 'bench',
      scope: BENCH_SCOPE,
      resource: ready.resource,
    }).toString();
    let location = (await send(authorize.href)).headers.get('location') ?? '';
    // Sign in and approve the first time; afterwards the session and the remembered consent apply.
    for (let step = 0; !location.startsWith(BENCH_REDIRECT_URI); step++) {
      if (step > 4 || !location.startsWith('/interaction/'))
        throw new Error(`unexpected redirect "${location}"`);
      const interaction = location;
      const html = await (await send(interaction)).text();
      if (html.includes('name="password"')) {
        await send(`${interaction}/login`, { csrf: csrfOf(html), username: USERNAME, password: PASSWORD });
        continue;
      }
      const res = await send(`${interaction}/consent`, {
        csrf: csrfOf(html),
        decision: 'approve',
        scope: BENCH_SCOPE,
      });
      location = res.headers.get('location') ?? '';
    }
    const code = new URL(location).searchParams.get('code') ?? '';
    const res = await send(
      '/oauth/token',
      { grant_type: 'authorization_code', code, code_verifier, redirect_uri: BENCH_REDIRECT_URI },
      { authorization: basic },
    );
    const body = (await res.json()) as { refresh_token?: string };
    if (res.status !== 200 || !body.refresh_token) {
      throw new Error(`code exchange failed: ${res.status} ${JSON.stringify(body)}`);
    }
    return body.refresh_token;
  }

  return {
    child,
    /** Every instance's process (the first is `child`). */
    children: [child, ...others.map((o) => o.child)],
    /** Every instance's origin, when there are several. */
    origins: others.length ? [new URL(issuer).origin, ...others.map((o) => o.origin)] : undefined,
    ready,
    async mint(count: number): Promise<string[]> {
      const tokens: string[] = [];
      for (let i = 0; i < count; i++) tokens.push(await mintOne());
      return tokens;
    },
    async stop() {
      await Promise.all([child, ...others.map((o) => o.child)].map((c) => stopChild(c)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
