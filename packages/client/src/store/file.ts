import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ClientError } from '../errors.ts';
import { loadOrCreateKeyFile, open_, parseKey, type Sealed, seal } from './encryption.ts';
import { withFileLock } from './file-lock.ts';
import { NamedMutex } from './memory.ts';
import { type StoredClient, type StoredTokens, type TokenStore, tokensKey } from './types.ts';

/** The environment variable that may hold the store key (32 bytes, base64url). */
export const STORE_KEY_ENV = 'GATEHOUSE_CLIENT_KEY';

/**
 * The user's configuration folder for Gatehouse: `$GATEHOUSE_CONFIG_DIR`, else
 * `$XDG_CONFIG_HOME/gatehouse`, `%APPDATA%\gatehouse` on Windows, `~/.config/gatehouse`.
 */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GATEHOUSE_CONFIG_DIR) return env.GATEHOUSE_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'gatehouse');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'gatehouse');
  return join(homedir(), '.config', 'gatehouse');
}

export interface FileTokenStoreOptions {
  /** The encrypted store file; default `<config dir>/client-store.json`. */
  path?: string;
  /** The key itself; default: `$GATEHOUSE_CLIENT_KEY`, else the key file. */
  key?: Uint8Array;
  /** Where the key is kept when not given (0600); default `<config dir>/client-store.key`. */
  keyPath?: string;
  env?: NodeJS.ProcessEnv;
}

interface Contents {
  tokens: Record<string, StoredTokens>;
  clients: Record<string, StoredClient>;
}

/**
 * The default store: one file, AES-256-GCM-encrypted as a whole, so neither tokens nor client
 * secrets nor even the list of servers is readable without the key, which is kept apart from it.
 * Safe to share between processes: writes are read-modify-write under a lock file, and `withLock`
 * gives callers (refresh) cross-process mutual exclusion.
 *
 * @example const store = new FileTokenStore(); // ~/.config/gatehouse/client-store.json
 */
export class FileTokenStore implements TokenStore {
  readonly path: string;
  readonly keyPath: string;
  readonly #explicitKey: Uint8Array | undefined;
  readonly #env: NodeJS.ProcessEnv;
  readonly #mutex = new NamedMutex();
  #key: Promise<Uint8Array> | undefined;

  constructor(options: FileTokenStoreOptions = {}) {
    this.#env = options.env ?? process.env;
    const dir = defaultConfigDir(this.#env);
    this.path = options.path ?? join(dir, 'client-store.json');
    this.keyPath = options.keyPath ?? join(dir, 'client-store.key');
    this.#explicitKey = options.key;
  }

  #getKey(): Promise<Uint8Array> {
    this.#key ??= (async () => {
      if (this.#explicitKey) return this.#explicitKey;
      const fromEnv = this.#env[STORE_KEY_ENV];
      if (fromEnv) return parseKey(fromEnv);
      return loadOrCreateKeyFile(this.keyPath);
    })();
    return this.#key;
  }

  async #read(): Promise<Contents> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { tokens: {}, clients: {} };
      throw new ClientError('store_unavailable', `cannot read ${this.path}`, { cause: err });
    }
    const sealed = JSON.parse(text) as Sealed;
    return JSON.parse(open_(await this.#getKey(), sealed)) as Contents;
  }

  async #write(contents: Contents): Promise<void> {
    const sealed = seal(await this.#getKey(), JSON.stringify(contents));
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    // Write-then-rename so a reader never sees half a file.
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(sealed), { mode: 0o600 });
    await rename(tmp, this.path);
  }

  async #update(change: (c: Contents) => void): Promise<void> {
    await this.withLock('store-file', async () => {
      const contents = await this.#read();
      change(contents);
      await this.#write(contents);
    });
  }

  async getTokens(issuer: string, resource: string): Promise<StoredTokens | undefined> {
    return (await this.#read()).tokens[tokensKey(issuer, resource)];
  }
  setTokens(tokens: StoredTokens): Promise<void> {
    return this.#update((c) => {
      c.tokens[tokensKey(tokens.issuer, tokens.resource)] = tokens;
    });
  }
  deleteTokens(issuer: string, resource: string): Promise<void> {
    return this.#update((c) => {
      delete c.tokens[tokensKey(issuer, resource)];
    });
  }
  async listTokens(): Promise<StoredTokens[]> {
    return Object.values((await this.#read()).tokens);
  }
  async getClient(issuer: string): Promise<StoredClient | undefined> {
    return (await this.#read()).clients[issuer];
  }
  setClient(client: StoredClient): Promise<void> {
    return this.#update((c) => {
      c.clients[client.issuer] = client;
    });
  }
  deleteClient(issuer: string): Promise<void> {
    return this.#update((c) => {
      delete c.clients[issuer];
    });
  }

  /** In-process mutex first (cheap), then the lock file (other processes). */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const digest = createHash('sha256').update(name).digest('hex').slice(0, 16);
    return this.#mutex.run(name, () => withFileLock(`${this.path}.${digest}.lock`, fn));
  }
}
