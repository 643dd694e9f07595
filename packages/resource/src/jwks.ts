import { withDeadline } from '@gatehouse/core';
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
  /**
   * Keys not refreshed for this long are trusted no longer, reachable AS or not: a key the AS
   * retired (perhaps because it leaked) must not live on through an outage.
   */
  maxStaleMs: number;
  /** Deadline of one JWKS request, body included. */
  timeoutMs: number;
  /** Aborts a request in flight when the guard closes. */
  signal?: AbortSignal;
  /** Reports a failed refresh that was survived with the last good keys (never contains tokens). */
  onError?: (error: unknown) => void;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/**
 * The authorization server's signing keys, fetched once and reused; refreshed when a token names a
 * key we do not have (the AS rotated its keys) and when the copy is older than `maxAgeMs`.
 * Concurrent refreshes share one request, and each request has a deadline.
 *
 * A refresh that fails keeps the last good key set: an AS that is briefly down must not turn every
 * valid token away. The next attempt waits `cooldownMs`, doubling with each failure in a row (up to
 * `maxAgeMs`). Only a token whose `kid` is unknown after a failed reload fails, and as
 * `temporarily_unavailable` (503), not as an invalid token; and once the last good keys are
 * `maxStaleMs` old, every token does, until a refresh succeeds.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5
 */
export class RemoteKeySet {
  readonly #options: RemoteKeySetOptions;
  #resolver: KeyResolver | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  /** Last attempt, successful or not: an unknown `kid` refetches at most once per cooldown from it. */
  #attemptedAt = Number.NEGATIVE_INFINITY;
  /** No scheduled refresh before this time (backoff after failures). */
  #retryAt = Number.NEGATIVE_INFINITY;
  #failures = 0;
  #pending: Promise<void> | undefined;

  constructor(options: RemoteKeySetOptions) {
    this.#options = options;
  }

  /** The key-lookup function for `jose.jwtVerify`. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    const now = this.#options.now();
    if (!this.#resolver) await this.#reload();
    else if (now - this.#fetchedAt >= this.#options.maxAgeMs && now >= this.#retryAt) {
      // Stale: try to refresh, and on failure carry on with the last good keys, for a while.
      await this.#reload().catch((err: unknown) => this.#options.onError?.(err));
    }
    if (this.#options.now() - this.#fetchedAt >= this.#options.maxStaleMs) {
      throw new Error('the signing keys could not be refreshed for too long to be trusted');
    }
    try {
      return await (this.#resolver as KeyResolver)(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      if (this.#options.now() - this.#attemptedAt < this.#options.cooldownMs) {
        // Within the cooldown: garbage kids must not hammer the AS. But while the AS cannot be
        // reached, an unknown kid may be its new key: say so (503), not that the token is invalid.
        if (this.#failures > 0)
          throw new Error('the signing key is unknown and the JWKS could not be refreshed');
        throw err;
      }
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
    this.#attemptedAt = this.#options.now();
    try {
      const url = await this.#options.jwksUri();
      const { timeoutMs, signal } = this.#options;
      const jwks = await withDeadline(url, { timeoutMs, signal }, async (signal) => {
        const response = await this.#options.fetch(url, {
          headers: { accept: 'application/json' },
          redirect: 'error',
          signal,
        });
        if (!response.ok) {
          await response.body?.cancel();
          throw new Error(`JWKS ${url} answered ${response.status}`);
        }
        return (await response.json()) as JSONWebKeySet;
      });
      if (!jwks || !Array.isArray(jwks.keys)) throw new Error(`JWKS ${url} is not a key set`);
      this.#resolver = createLocalJWKSet(jwks);
      this.#fetchedAt = this.#options.now();
      this.#failures = 0;
      this.#retryAt = Number.NEGATIVE_INFINITY;
    } catch (err) {
      const backoff = Math.min(this.#options.cooldownMs * 2 ** this.#failures, this.#options.maxAgeMs);
      this.#failures++;
      this.#retryAt = this.#options.now() + backoff;
      throw err;
    }
  }
}
