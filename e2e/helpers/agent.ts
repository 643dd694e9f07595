import { createHash, randomBytes } from 'node:crypto';

/**
 * A scripted browser: keeps cookies per name, never follows redirects, so every step of a flow
 * can be checked. It sends no `Origin` header unless a test sets one, as a same-origin form post
 * from an old browser would.
 */
export class Agent {
  readonly cookies = new Map<string, string>();
  /** Every Set-Cookie header received, verbatim, for attribute checks. */
  readonly setCookies: string[] = [];

  async fetch(
    url: string | URL,
    init: RequestInit & { form?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size && !headers.has('cookie')) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    let body = init.body;
    if (init.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const { form: _, ...rest } = init;
    const response = await fetch(url, { ...rest, headers, body, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      this.setCookies.push(cookie);
      const pair = cookie.split(';')[0] as string;
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (/Max-Age=0\b/i.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    return response;
  }
}

/** The CSRF token of the first form on a page. */
export const csrfOf = (page: string): string => {
  const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
  if (!token) throw new Error(`no CSRF token on the page:\n${page.slice(0, 500)}`);
  return token;
};

/**
 * The `scope` a person submits by approving a consent page as shown: the ticked checkboxes and the
 * required scopes' hidden fields, space-joined (the server reads its repeated `scope` fields so).
 */
export const approvedScopeOf = (page: string): string =>
  [...page.matchAll(/<input type="(hidden|checkbox)"[^>]*\bname="scope"[^>]*>/g)]
    .filter((m) => m[1] === 'hidden' || /\schecked\b/.test(m[0]))
    .map((m) => /value="([^"]*)"/.exec(m[0])?.[1] ?? '')
    .join(' ');

/** A PKCE verifier and its S256 challenge (RFC 7636 §4.1–4.2), computed independently of core. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** `<issuer>/oauth/authorize?…` with the given parameters (undefined values are left out). */
export function authorizeUrl(issuer: string, params: Record<string, string | undefined>): URL {
  const url = new URL(`${issuer}/oauth/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

/** The query parameters of a redirect's Location, as a plain object (values of repeated keys joined). */
export function redirectParams(response: Response): Record<string, string> {
  const location = response.headers.get('location');
  if (!location) throw new Error(`expected a redirect, got ${response.status}`);
  return Object.fromEntries(new URL(location).searchParams);
}

export interface FlowOptions {
  issuer: string;
  /** Where the server listens, if not at the issuer. */
  url?: string;
  clientId: string;
  redirectUri: string;
  username: string;
  password: string;
  scope?: string | undefined;
  resource?: string | undefined;
  state?: string;
  agent?: Agent;
  decision?: 'approve' | 'deny';
}

export interface FlowResult {
  agent: Agent;
  verifier: string;
  /** The final redirect to the client. */
  response: Response;
  params: Record<string, string>;
  /** Whether the consent screen was shown (false when remembered consent skipped it). */
  consentShown: boolean;
  consentPage?: string;
}

/**
 * Authorize → (sign in) → (consent) → redirect to the client, as a browser would, using the
 * scripted agent. Stops at the redirect to the client; redeeming the code is up to the test.
 */
export async function authorize(options: FlowOptions): Promise<FlowResult> {
  const base = options.url ?? options.issuer;
  const agent = options.agent ?? new Agent();
  const { verifier, challenge } = pkce();
  const start = authorizeUrl(base, {
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    scope: options.scope,
    resource: options.resource,
    state: options.state ?? 'state-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  let response = await agent.fetch(start);
  let location = response.headers.get('location');
  if (!location) throw new Error(`authorize gave ${response.status}: ${await response.text()}`);
  let consentShown = false;
  let consentPage: string | undefined;
  if (location.startsWith('/interaction/')) {
    const interaction = `${base}${location}`;
    let page = await (await agent.fetch(interaction)).text();
    if (page.includes('name="password"')) {
      response = await agent.fetch(`${interaction}/login`, {
        method: 'POST',
        form: { csrf: csrfOf(page), username: options.username, password: options.password },
      });
      if (response.status !== 303) throw new Error(`sign-in failed: ${response.status}`);
      page = await (await agent.fetch(interaction)).text();
    }
    consentShown = true;
    consentPage = page;
    response = await agent.fetch(`${interaction}/consent`, {
      method: 'POST',
      form: { csrf: csrfOf(page), decision: options.decision ?? 'approve', scope: approvedScopeOf(page) },
    });
    location = response.headers.get('location');
    if (!location) throw new Error(`consent gave ${response.status}: ${await response.text()}`);
  }
  return {
    agent,
    verifier,
    response,
    params: Object.fromEntries(new URL(location).searchParams),
    consentShown,
    ...(consentPage === undefined ? {} : { consentPage }),
  };
}

/** POSTs a form to the token endpoint; returns status, headers and parsed JSON. */
export async function tokenRequest(
  base: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** `Authorization: Basic` for client_secret_basic (RFC 6749 §2.3.1: form-encode, then base64). */
export function basicAuth(id: string, secret: string): Record<string, string> {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return { authorization: `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}` };
}
