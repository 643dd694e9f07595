/**
 * Gatehouse as a user runs it: `gatehouse serve` on a fresh data folder (the embedded SQLite store
 * in a temp folder, the product's default), with a user and a confidential client added by the CLI.
 * Refresh tokens come from the real authorization code flow over HTTP (sign in once, consent once,
 * then one authorize + one code exchange per token), so nothing the token endpoint does is skipped.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPkcePair } from '@gatehouse/core';
import { childEnv, relayOutput, stopChild } from '../processes.ts';
import { BENCH_REDIRECT_URI, BENCH_SCOPE, type ReadyMessage } from '../protocol.ts';

const CLI = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));
const USERNAME = 'bench';
const PASSWORD = 'bench-password-long-enough';

function cli(args: string[], input?: string): string {
  return execFileSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: childEnv });
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

/** `profileDir`: run the server with `--cpu-prof`, writing its profile there when it stops. */
export async function startGatehouse(options: { profileDir?: string | undefined } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  cli(['users', 'add', USERNAME, '--password-stdin', '--data', dir], `${PASSWORD}\n`);
  const client = JSON.parse(
    cli([
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
    ]),
  ) as { client_id: string; client_secret: string };

  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, CLI, 'serve', '--port', '0', '--data', dir], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  relayOutput(child, 'gatehouse', true);
  const issuer = await issuerOf(child);
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
    ready,
    async mint(count: number): Promise<string[]> {
      const tokens: string[] = [];
      for (let i = 0; i < count; i++) tokens.push(await mintOne());
      return tokens;
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
