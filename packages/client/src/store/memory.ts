import { type StoredClient, type StoredTokens, type TokenStore, tokensKey } from './types.ts';

/** An in-process mutex per name: each holder waits for the one before it. */
export class NamedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(name, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(name) === tail) this.#tails.delete(name);
    }
  }
}

/** A store that lives and dies with the process: for tests, servers and short-lived tools. */
export class MemoryTokenStore implements TokenStore {
  readonly #tokens = new Map<string, StoredTokens>();
  readonly #clients = new Map<string, StoredClient>();
  readonly #mutex = new NamedMutex();

  async getTokens(issuer: string, resource: string): Promise<StoredTokens | undefined> {
    const t = this.#tokens.get(tokensKey(issuer, resource));
    return t && { ...t };
  }
  async setTokens(tokens: StoredTokens): Promise<void> {
    this.#tokens.set(tokensKey(tokens.issuer, tokens.resource), { ...tokens });
  }
  async deleteTokens(issuer: string, resource: string): Promise<void> {
    this.#tokens.delete(tokensKey(issuer, resource));
  }
  async listTokens(): Promise<StoredTokens[]> {
    return [...this.#tokens.values()].map((t) => ({ ...t }));
  }
  async getClient(issuer: string): Promise<StoredClient | undefined> {
    const c = this.#clients.get(issuer);
    return c && { ...c };
  }
  async setClient(client: StoredClient): Promise<void> {
    this.#clients.set(client.issuer, { ...client });
  }
  async deleteClient(issuer: string): Promise<void> {
    this.#clients.delete(issuer);
  }
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.#mutex.run(name, fn);
  }
}
