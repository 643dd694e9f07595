import type { FlattenedJWSInput, JSONWebKeySet, JWSHeaderParameters } from 'jose';
import { createLocalJWKSet, errors } from 'jose';

export interface RemoteKeySetOptions {
  /** Resolves the JWKS URL lazily (usually from the authorization server's metadata). */
  jwksUri: () => Promise<string>;
  fetch: typeof fetch;
  now: () => number;
  /** Refetch even known keys after this long, so retired keys stop being trusted. */
  maxAgeMs: number;
  /** An unknown `kid` triggers a refetch at most this often, so garbage tokens cannot hammer the AS. */
  cooldownMs: number;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/**
 * The authorization server's signing keys, fetched once and reused; refreshed when a token names a
 * key we do not have (the AS rotated its keys) and when the copy is older than `maxAgeMs`.
 * Concurrent refreshes share one request.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export class RemoteKeySet {
  readonly #options: RemoteKeySetOptions;
  #resolver: KeyResolver | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<void> | undefined;

  constructor(options: RemoteKeySetOptions) {
    this.#options = options;
  }

  /** The key-lookup function for `jose.jwtVerify`. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    const age = this.#options.now() - this.#fetchedAt;
    if (!this.#resolver || age >= this.#options.maxAgeMs) await this.#reload();
    try {
      return await (this.#resolver as KeyResolver)(header, token);
    } catch (err) {
      const noMatch = err instanceof errors.JWKSNoMatchingKey;
      if (!noMatch || this.#options.now() - this.#fetchedAt < this.#options.cooldownMs) throw err;
      await this.#reload();
      return (this.#resolver as KeyResolver)(header, token);
    }
  };

  #reload(): Promise<void> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<void> {
    const url = await this.#options.jwksUri();
    const response = await this.#options.fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
    });
    if (!response.ok) throw new Error(`JWKS ${url} answered ${response.status}`);
    const jwks = (await response.json()) as JSONWebKeySet;
    if (!jwks || !Array.isArray(jwks.keys)) throw new Error(`JWKS ${url} is not a key set`);
    this.#resolver = createLocalJWKSet(jwks);
    this.#fetchedAt = this.#options.now();
  }
}
