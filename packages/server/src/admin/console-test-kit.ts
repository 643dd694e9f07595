import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuthorizationServer, createAuthorizationServer } from '../server.ts';
import { SqliteStore } from '../store/sqlite.ts';
import type { GrantRecord } from '../store/types.ts';
import { hashPassword } from '../users/password.ts';

/** For the admin pages' HTTP tests: a real server on a real SQLite file, a frozen clock. */
export const ISSUER = 'http://127.0.0.1:9';
export const PASSWORD = 'correct horse battery';

export async function startConsole() {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-admin-'));
  const store = new SqliteStore(join(dir, 'gatehouse.db'));
  const clock = { now: 1_800_000_000 };
  const as: AuthorizationServer = await createAuthorizationServer({
    issuer: ISSUER,
    store,
    masterSecret: randomBytes(32).toString('base64url'),
    now: () => clock.now,
  });
  const password_hash = await hashPassword(PASSWORD);
  const addUser = async (username: string, admin = false) => {
    const user = { id: randomUUID(), username, password_hash, disabled: false, admin, created_at: clock.now };
    await store.createUser(user);
    return user;
  };
  const grant = async (subject: string, scope: string, resource = `${ISSUER}/mcp/files`) => {
    const record: GrantRecord = {
      id: randomUUID(),
      client_id: 'notes-app',
      subject,
      resource,
      scope,
      created_at: clock.now,
      last_used_at: clock.now,
      expires_at: clock.now + 86400,
    };
    await store.createGrant(record);
    return record;
  };
  await store.createClient({
    client_id: 'notes-app',
    kind: 'preregistered',
    client_name: 'Notes',
    redirect_uris: ['http://127.0.0.1:1/cb'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    created_at: clock.now,
  });
  const close = async () => {
    await as.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { as, store, clock, addUser, grant, close };
}

/** A browser stand-in: keeps cookies, signs in through /login, posts forms with a page's CSRF token. */
export class ConsoleBrowser {
  readonly cookies = new Map<string, string>();
  readonly #as: AuthorizationServer;
  constructor(as: AuthorizationServer) {
    this.#as = as;
  }

  async request(
    path: string,
    init: { method?: string; form?: Record<string, string>; origin?: string } = {},
  ) {
    const headers = new Headers({ accept: 'text/html' });
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    if (init.origin) headers.set('origin', init.origin);
    let body: string | undefined;
    if (init.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const response = await this.#as.fetch(
      new Request(`${ISSUER}${path}`, { method: init.method ?? 'GET', headers, body }),
      { remoteAddress: '127.0.0.1' },
    );
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = (pair as string).split('=') as [string, string];
      if (value === '' || /Max-Age=0\b/.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { response, text: await response.text() };
  }

  async signIn(username: string) {
    const { text } = await this.request('/login');
    return this.request('/login', {
      method: 'POST',
      form: { csrf: csrfOf(text), username, password: PASSWORD },
    });
  }

  /** Posts the form of the page at `path` (its CSRF token) with `fields`. */
  async submit(pagePath: string, action: string, fields: Record<string, string>, origin = ISSUER) {
    const { text } = await this.request(pagePath);
    return this.request(action, { method: 'POST', form: { csrf: csrfOf(text), ...fields }, origin });
  }
}

export const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
