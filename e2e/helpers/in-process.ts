import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  type AuthorizationServer,
  type AuthorizationServerConfig,
  type ClientRecord,
  createAuthorizationServer,
  hashPassword,
  SqliteStore,
  toNodeListener,
} from '@gatehouse/server';
import { closeServer, listen } from './loopback.ts';
import { tempDir } from './temp.ts';

/** A frozen, steppable clock in unix seconds, for tests where expiry matters. */
export class TestClock {
  current: number;
  constructor(start = 1_900_000_000) {
    this.current = start;
  }
  now = (): number => this.current;
  advance(seconds: number): void {
    this.current += seconds;
  }
}

export interface InProcessServer {
  as: AuthorizationServer;
  /** What clients use: `http://127.0.0.1:<port>` unless `issuer` was given. */
  issuer: string;
  /** Where the server actually listens (equal to `issuer` unless an https issuer was configured). */
  url: string;
  store: SqliteStore;
  dir: string;
  /** The master secret this server was given, for tests asserting it never leaks. */
  masterSecret: string;
  addUser(username: string, password: string): Promise<string>;
  addClient(client: Partial<ClientRecord> & { client_id: string; redirect_uris: string[] }): Promise<void>;
  close(): Promise<void>;
}

export type TestConfig = Partial<Omit<AuthorizationServerConfig, 'store' | 'masterSecret'>>;

/**
 * `createAuthorizationServer` on a real SQLite file in a temp folder, behind `toNodeListener` on
 * 127.0.0.1. `issuer` may be overridden (e.g. an https issuer to check cookie attributes); the
 * server is still reached over loopback http at `url`.
 */
export async function startInProcess(
  options: TestConfig | ((url: string) => TestConfig) = {},
): Promise<InProcessServer> {
  const temp = await tempDir();
  const store = new SqliteStore(join(temp.dir, 'gatehouse.db'));
  const http = createServer();
  const url = await listen(http);
  // Settings that name the server's own URLs (resources) can only be known once it listens.
  const config = typeof options === 'function' ? options(url) : options;
  const issuer = config.issuer ?? url;
  const masterSecret = randomBytes(32).toString('base64url');
  let as: AuthorizationServer;
  try {
    as = await createAuthorizationServer({ ...config, issuer, store, masterSecret });
  } catch (err) {
    await closeServer(http);
    await store.close();
    await temp.remove();
    throw err;
  }
  http.on('request', toNodeListener(as.fetch, issuer));
  const now = () => (config.now ?? (() => Math.floor(Date.now() / 1000)))();
  return {
    as,
    issuer,
    url,
    store,
    dir: temp.dir,
    masterSecret,
    async addUser(username, password) {
      const id = randomUUID();
      await store.createUser({
        id,
        username,
        password_hash: await hashPassword(password),
        disabled: false,
        created_at: now(),
      });
      return id;
    },
    async addClient(client) {
      await store.createClient({
        kind: 'preregistered',
        client_name: 'Test client',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        created_at: now(),
        ...client,
      });
    },
    async close() {
      await closeServer(http);
      await as.close();
      await store.close();
      await temp.remove();
    },
  };
}
