import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse …` as its own process, as an administrator would, with `input` on stdin. */
export function cli(args: string[], input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Starts a long-running `gatehouse …` (serve, audit tail --follow) and collects its output. */
export function start(args: string[]): {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<number>;
} {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  return {
    child,
    output: () => out,
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Polls `check` until it returns a value (or throws after `ms`); for waiting on other processes. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `gatehouse serve --port 0`: resolves with the issuer it prints once listening. */
export async function serve(dataDir: string) {
  const server = start(['serve', '--port', '0', '--data', dataDir]);
  const issuer = await waitFor(() => {
    if (server.child.exitCode !== null) throw new Error(`serve exited: ${server.output()}`);
    return /Issuer \(authorization server\):\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(server.output())?.[1];
  });
  return { issuer, stop: server.stop };
}

/** A scripted browser: keeps cookies, never follows redirects, so every step can be checked. */
export class Agent {
  readonly cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit & { form?: Record<string, string> } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    let body = init.body;
    if (init.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, { ...init, headers, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [name, value] = (cookie.split(';')[0] as string).split('=') as [string, string];
      if (/Max-Age=0\b/.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }
}

export const csrfOf = (page: string): string => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

export interface FlowInput {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  redirectUri: string;
  username: string;
  password: string;
  scope: string;
  agent?: Agent;
}

/**
 * The whole authorization code flow with PKCE, as a browser and a client would run it: authorize,
 * sign in, consent, redeem the code. Returns the token response and every secret value seen on
 * the way (for tests that check none of them is stored or logged).
 */
export async function authorizationCodeFlow(input: FlowInput) {
  const agent = input.agent ?? new Agent();
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const url = new URL('/oauth/authorize', input.issuer);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: input.clientId,
    redirect_uri: input.redirectUri,
    scope: input.scope,
    state: 'xyz',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })) {
    url.searchParams.set(k, v);
  }
  let response = await agent.fetch(url.href);
  let location = new URL(response.headers.get('location') as string, input.issuer).href;
  if (location.includes('/interaction/')) {
    const interaction = location;
    let page = await (await agent.fetch(interaction)).text();
    if (page.includes('name="password"')) {
      response = await agent.fetch(`${interaction}/login`, {
        method: 'POST',
        form: { csrf: csrfOf(page), username: input.username, password: input.password },
      });
      if (response.status !== 303) throw new Error(`sign-in failed: ${response.status}`);
      page = await (await agent.fetch(interaction)).text();
    }
    response = await agent.fetch(`${interaction}/consent`, {
      method: 'POST',
      form: { csrf: csrfOf(page), decision: 'approve' },
    });
    location = response.headers.get('location') as string;
  }
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  const tokens = await tokenRequest(input, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: input.redirectUri,
  });
  return { agent, code, verifier, tokens };
}

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  scope: string;
}

/** A token request, authenticating with client_secret_basic when the client has a secret. */
export async function tokenRequest(
  client: Pick<FlowInput, 'issuer' | 'clientId' | 'clientSecret'>,
  params: Record<string, string>,
): Promise<Tokens> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const form = new URLSearchParams(params);
  if (client.clientSecret) {
    const basic = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(basic).toString('base64')}`;
  } else form.set('client_id', client.clientId);
  const response = await fetch(new URL('/oauth/token', client.issuer), {
    method: 'POST',
    headers,
    body: form,
  });
  const body = (await response.json()) as Tokens & { error?: string };
  if (!response.ok) throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** The claims of a JWT, unverified (the test only reads what the server put there). */
export function claimsOf(jwt: string): { jti: string; gid: string; sub: string } {
  return JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString());
}
