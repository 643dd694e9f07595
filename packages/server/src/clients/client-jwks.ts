/**
 * The public keys of `private_key_jwt` clients that publish a `jwks_uri` (RFC 7591 §2), cached:
 * an assertion costs no fetch while the keys are fresh. Freshness follows the response's
 * Cache-Control, bounded to at most five minutes (a rotated-out key stops working soon) and at
 * least the refetch cooldown (a `no-store` document cannot make every assertion a fetch). An
 * assertion naming a `kid` the cached set lacks refetches at once, at most once per cooldown, so a
 * client that rotated its key is not locked out and a stream of made-up kids fetches nothing.
 */
import { OAuthError } from '@gatehouse/core';
import type { JSONWebKeySet } from 'jose';
import type { Context } from '../context.ts';
import type { ClientRecord } from '../store/types.ts';
import {
  cacheLifetimeSeconds,
  type FetchedDocument,
  fetchJsonDocument,
  systemResolver,
} from './cimd/index.ts';

const MAX_AGE_SECONDS = 300;
const REFETCH_COOLDOWN_SECONDS = 30;
const MAX_ENTRIES = 1000;
const MAX_KEYS = 20;

interface Entry {
  keys: JSONWebKeySet;
  freshUntil: number;
  /** When an unknown `kid` last caused a fetch, so that the next one waits out the cooldown. */
  kidMissFetchAt: number;
}

/** Loads a key set document; `fetchJsonDocument` under the CIMD address policy and deadline. */
export type LoadJwks = (uri: string) => Promise<FetchedDocument>;

export class ClientJwksCache {
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<Entry>>();
  readonly #load: LoadJwks;
  readonly #now: () => number;

  constructor(load: LoadJwks, now: () => number) {
    this.#load = load;
    this.#now = now;
  }

  /** The key set at `uri`, from the cache unless stale or lacking `kid` (see the module comment). */
  async keys(uri: string, kid: string | undefined): Promise<JSONWebKeySet> {
    const now = this.#now();
    const entry = this.#entries.get(uri);
    const lastKidMiss = entry?.kidMissFetchAt ?? Number.NEGATIVE_INFINITY;
    if (entry && entry.freshUntil > now) {
      const known = kid === undefined || entry.keys.keys.some((key) => key.kid === kid);
      if (known || now - lastKidMiss < REFETCH_COOLDOWN_SECONDS) return entry.keys;
      return (await this.#refetch(uri, now)).keys;
    }
    return (await this.#refetch(uri, lastKidMiss)).keys;
  }

  /** One fetch per URI at a time; failures are not cached (the caller's failure limit applies). */
  #refetch(uri: string, kidMissFetchAt: number): Promise<Entry> {
    const pending = this.#inFlight.get(uri);
    if (pending) return pending;
    const fetching = this.#fetch(uri, kidMissFetchAt).finally(() => this.#inFlight.delete(uri));
    this.#inFlight.set(uri, fetching);
    return fetching;
  }

  async #fetch(uri: string, kidMissFetchAt: number): Promise<Entry> {
    const { json, headers } = await this.#load(uri);
    const keys = asKeySet(json);
    const fetchedAt = this.#now();
    const lifetime = cacheLifetimeSeconds(headers, fetchedAt * 1000, {
      minSeconds: REFETCH_COOLDOWN_SECONDS,
      maxSeconds: MAX_AGE_SECONDS,
      defaultSeconds: MAX_AGE_SECONDS,
    });
    const entry = {
      keys,
      freshUntil: fetchedAt + Math.max(REFETCH_COOLDOWN_SECONDS, lifetime),
      kidMissFetchAt,
    };
    this.#entries.delete(uri);
    if (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(uri, entry);
    return entry;
  }
}

function asKeySet(json: unknown): JSONWebKeySet {
  const keys = typeof json === 'object' && json !== null ? (json as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) {
    throw new OAuthError('invalid_client', 'The client jwks_uri did not return a usable JWK Set.');
  }
  if (!keys.every((key) => typeof key === 'object' && key !== null && !Array.isArray(key))) {
    throw new OAuthError('invalid_client', 'The client jwks_uri did not return a usable JWK Set.');
  }
  return { keys } as JSONWebKeySet;
}

/** One cache per authorization server (its Context), like the other per-instance caches. */
const caches = new WeakMap<Context, ClientJwksCache>();

/**
 * The client's public keys: its registered `jwks`, or its `jwks_uri` through the cache, fetched
 * with the metadata documents' SSRF protection, size limit and deadline.
 */
export async function clientPublicKeys(
  ctx: Context,
  client: ClientRecord,
  kid: string | undefined,
): Promise<JSONWebKeySet> {
  if (client.jwks) return client.jwks as JSONWebKeySet;
  if (!client.jwks_uri) throw new OAuthError('invalid_client', 'The client has no registered keys.');
  let cache = caches.get(ctx);
  if (!cache) {
    const cimd = ctx.config.clientIdMetadataDocuments;
    cache = new ClientJwksCache(
      (uri) =>
        fetchJsonDocument(new URL(uri), {
          resolve: cimd.resolve ?? systemResolver,
          dangerouslyAllowPrivateNetworks: cimd.dangerouslyAllowPrivateNetworks === true,
          dangerouslyAllowInsecureHttp: cimd.dangerouslyAllowInsecureHttp === true,
          maxBytes: 64 * 1024,
          timeoutMs: 5000,
          documentName: 'client jwks_uri document',
        }),
      ctx.now,
    );
    caches.set(ctx, cache);
  }
  return cache.keys(client.jwks_uri, kid);
}
