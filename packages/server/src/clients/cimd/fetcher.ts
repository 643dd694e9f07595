/**
 * Client ID Metadata Documents for the authorization server: turns a URL `client_id` into the
 * client's validated registration, fetched under SSRF guards and cached per HTTP caching headers.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-id-metadata-documents
 */
import { cacheLifetimeSeconds } from './cache-lifetime.ts';
import { parseClientIdUrl } from './client-id-url.ts';
import type { ResolvedAddress } from './fetch-document.ts';
import { fetchJsonDocument, systemResolver } from './fetch-document.ts';
import type { ClientMetadataDocument } from './metadata-document.ts';
import { parseClientMetadataDocument } from './metadata-document.ts';

/** Every option, with its default. */
export interface CimdFetcherOptions {
  /** Resolves a host name to all its addresses. Default: `node:dns/promises` `lookup` with `all: true`. */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
  /**
   * Development only: allow documents on loopback, private, link-local and other special-use
   * addresses. Turning this on in production lets any client make the server reach internal hosts.
   * Default `false`.
   */
  dangerouslyAllowPrivateNetworks?: boolean;
  /** Development only: allow `http://` client_id URLs (loopback test servers have no TLS). Default `false`. */
  dangerouslyAllowInsecureHttp?: boolean;
  /** Largest accepted document, in bytes. Default 5120, the draft's recommendation. */
  maxBytes?: number;
  /** Deadline for resolution, connection and body together, in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** The clock for the cache, in seconds since the epoch, like the server's. Tests freeze it. */
  now?: () => number;
  /** Shortest time a cacheable document is kept, whatever `max-age` says. Default 60. */
  minCacheSeconds?: number;
  /** Longest time a document is kept, so changes to it are noticed. Default 86400 (one day). */
  maxCacheSeconds?: number;
  /** Time a document without freshness headers is kept. Default 300. */
  defaultCacheSeconds?: number;
  /** Most documents kept at once; the oldest go first. Default 1000. */
  maxCacheEntries?: number;
}

export interface CimdFetcher {
  /**
   * The validated metadata document that `clientId` (an https URL) points at, from cache while fresh.
   *
   * @throws OAuthError `invalid_client` when the URL, the fetch or the document is unusable; the
   *   description says why without revealing anything about the server's network.
   */
  fetchClientMetadata(clientId: string): Promise<ClientMetadataDocument>;
}

interface CacheEntry {
  document: ClientMetadataDocument;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/**
 * Creates a fetcher with its own cache. Concurrent requests for one `client_id` share one fetch.
 * Failed fetches and invalid documents are never cached (draft §4.4).
 *
 * @example
 * const cimd = createCimdFetcher();
 * if (isClientIdMetadataUrl(clientId)) client = await cimd.fetchClientMetadata(clientId);
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-client-information-discover
 */
export function createCimdFetcher(options: CimdFetcherOptions = {}): CimdFetcher {
  const now = options.now ?? (() => Date.now() / 1000);
  const fetchOptions = {
    resolve: options.resolve ?? systemResolver,
    dangerouslyAllowPrivateNetworks: options.dangerouslyAllowPrivateNetworks ?? false,
    dangerouslyAllowInsecureHttp: options.dangerouslyAllowInsecureHttp ?? false,
    maxBytes: options.maxBytes ?? 5120,
    timeoutMs: options.timeoutMs ?? 5000,
  };
  const bounds = {
    minSeconds: options.minCacheSeconds ?? 60,
    maxSeconds: options.maxCacheSeconds ?? 86_400,
    defaultSeconds: options.defaultCacheSeconds ?? 300,
  };
  const maxEntries = options.maxCacheEntries ?? 1000;
  const cache = new Map<string, CacheEntry>();
  const inFlight = new Map<string, Promise<ClientMetadataDocument>>();

  async function load(clientId: string): Promise<ClientMetadataDocument> {
    const url = parseClientIdUrl(clientId, {
      dangerouslyAllowInsecureHttp: options.dangerouslyAllowInsecureHttp,
    });
    const { json, headers } = await fetchJsonDocument(url, fetchOptions);
    const document = parseClientMetadataDocument(json, clientId);
    const lifetime = cacheLifetimeSeconds(headers, now() * 1000, bounds);
    if (lifetime > 0) remember(clientId, { document, expiresAt: now() + lifetime });
    return document;
  }

  function remember(clientId: string, entry: CacheEntry): void {
    cache.delete(clientId);
    while (cache.size >= maxEntries) {
      const oldest = cache.keys().next();
      if (oldest.done) break;
      cache.delete(oldest.value);
    }
    cache.set(clientId, entry);
  }

  return {
    async fetchClientMetadata(clientId) {
      const hit = cache.get(clientId);
      if (hit !== undefined && hit.expiresAt > now()) return structuredClone(hit.document);
      if (hit !== undefined) cache.delete(clientId);
      let pending = inFlight.get(clientId);
      if (pending === undefined) {
        pending = load(clientId).finally(() => inFlight.delete(clientId));
        inFlight.set(clientId, pending);
      }
      // Callers get their own copy, so no one can alter the cached registration.
      return structuredClone(await pending);
    },
  };
}
