import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPkcePair, randomToken } from '@gatehouse/core';
import { type AuthorizationServerConfig, createAuthorizationServer, toNodeListener } from '../src/index.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { ClientRecord } from '../src/store/types.ts';
import { CLIENT_SECRET_PREFIX, createOpaqueToken } from '../src/tokens/opaque.ts';
import { hashPassword } from '../src/users/password.ts';

/**
 * The `scope` a person submits by approving a consent page as shown: the ticked checkboxes and the
 * required scopes' hidden fields, space-joined (the server reads its repeated `scope` fields so).
 */
export const approvedScopeOf = (page: string): string =>
  [...page.matchAll(/<input type="(hidden|checkbox)"[^>]*\bname="scope"[^>]*>/g)]
    .filter((m) => m[1] === 'hidden' || /\schecked\b/.test(m[0]))
    .map((m) => /value="([^"]*)"/.exec(m[0])?.[1] ?? '')
    .join(' ');

/** A clock the test moves by hand. */
export function frozenClock(start = 1_800_000_000) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => (now += seconds) };
}

export type Harness = Awaited<ReturnType<typeof startAuthorizationServer>>;

/**
 * The real authorization server on 127.0.0.1 with a real SQLite file in a temp folder.
 */
export async function startAuthorizationServer(options: Partial<AuthorizationServerConfig> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-as-'));
  const store = new SqliteStore(join(dir, 'gatehouse.db'));
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const as = await createAuthorizationServer({ issuer, store, masterSecret: 'x'.repeat(43), ...options });
  http.on('request', toNodeListener(as.fetch, issuer));
  const secrets = as.context.secrets;

  async function addClient(client: Partial<ClientRecord> & { confidential?: boolean } = {}) {
    const secret = client.confidential ? createOpaqueToken(CLIENT_SECRET_PREFIX) : undefined;
    const { confidential, ...rest } = client;
    const record: ClientRecord = {
      client_id: randomToken(12),
      kind: 'preregistered',
      client_name: 'Test App',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: secret ? 'client_secret_basic' : 'none',
      grant_types: ['authorization_code', 'refresh_token', ...(secret ? ['client_credentials'] : [])],
      secret_hash: secret && secrets.hash(secret),
      created_at: as.context.now(),
      ...rest,
    };
    await store.createClient(record);
    return { ...record, secret };
  }

  async function addUser(username = 'alice', password = 'correct horse battery') {
    const user = {
      id: randomToken(8),
      username,
      password_hash: await hashPassword(password),
      disabled: false,
      created_at: 1,
    };
    await store.createUser(user);
    return { ...user, password };
  }

  /** POSTs a form to an endpoint. */
  function post(path: string, body: Record<string, string>, headers: Record<string, string> = {}) {
    return fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(body),
      redirect: 'manual',
    });
  }

  /**
   * Runs the authorization code flow over HTTP as a browser would: authorize, sign in, approve,
   * and exchange the code. Returns the token response.
   */
  async function authorize(
    client: { client_id: string; redirect_uris: string[] },
    user: { username: string; password: string },
    params: Record<string, string> = {},
  ) {
    const { code_verifier, code_challenge } = createPkcePair();
    const redirect_uri = client.redirect_uris[0] as string;
    const url = new URL(`${issuer}/oauth/authorize`);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri,
      code_challenge,
      code_challenge_method: 'S256',
      state: 'st',
      ...params,
    }))
      url.searchParams.set(k, v);
    const cookies = new Map<string, string>();
    const jar = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const keep = (res: Response) => {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const [k, v] = (pair as string).split('=');
        cookies.set(k as string, v as string);
      }
      return res;
    };
    const get = async (u: string) =>
      keep(await fetch(new URL(u, issuer), { headers: { cookie: jar() }, redirect: 'manual' }));
    const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string;

    let res = await get(url.href);
    let location = res.headers.get('location') as string;
    if (!location.startsWith('/interaction/')) throw new Error(`unexpected redirect ${location}`);
    const interaction = location;
    res = await get(interaction);
    let html = await res.text();
    if (html.includes('name="password"')) {
      res = keep(
        await post(
          `${interaction}/login`,
          { csrf: csrfOf(html), username: user.username, password: user.password },
          { cookie: jar() },
        ),
      );
      if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
      res = await get(interaction);
      html = await res.text();
    }
    res = keep(
      await post(
        `${interaction}/consent`,
        { csrf: csrfOf(html), decision: 'approve', scope: approvedScopeOf(html) },
        { cookie: jar() },
      ),
    );
    location = res.headers.get('location') as string;
    const code = new URL(location).searchParams.get('code') as string;
    const tokenRes = await post('/oauth/token', {
      grant_type: 'authorization_code',
      code,
      code_verifier,
      redirect_uri,
      client_id: client.client_id,
    });
    if (tokenRes.status !== 200) throw new Error(`token failed: ${tokenRes.status} ${await tokenRes.text()}`);
    return (await tokenRes.json()) as {
      access_token: string;
      refresh_token: string;
      scope: string;
      expires_in: number;
    };
  }

  return {
    issuer,
    as,
    store,
    dir,
    addClient,
    addUser,
    authorize,
    post,
    async close() {
      await as.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function basicAuth(id: string, secret: string): Record<string, string> {
  return {
    authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
  };
}
