import { createHash, randomBytes } from 'node:crypto';
import { serve as serveGatehouse } from '../../../e2e/helpers/gatehouse-cli.ts';

/** Spawning the CLI is shared with the end-to-end tests. */
export { type CliResult, gatehouse as cli, start } from '../../../e2e/helpers/gatehouse-cli.ts';

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

/** `gatehouse serve --port 0`: resolves with the issuer it prints once listening (within 10 s). */
export const serve = (dataDir: string) => serveGatehouse(dataDir);

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

/**
 * The `scope` a person submits by approving a consent page as shown: the ticked checkboxes and the
 * required scopes' hidden fields, space-joined (the server reads its repeated `scope` fields so).
 */
export const approvedScopeOf = (page: string): string =>
  [...page.matchAll(/<input type="(hidden|checkbox)"[^>]*\bname="scope"[^>]*>/g)]
    .filter((m) => m[1] === 'hidden' || /\schecked\b/.test(m[0]))
    .map((m) => /value="([^"]*)"/.exec(m[0])?.[1] ?? '')
    .join(' ');

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
      form: { csrf: csrfOf(page), decision: 'approve', scope: approvedScopeOf(page) },
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
