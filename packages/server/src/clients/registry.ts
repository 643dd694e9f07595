import { OAuthError } from '@gatehouse/core';
import type { ClientRecord, Store } from '../store/types.ts';
import type { ClientMetadataDocument } from './cimd/metadata-document.ts';

export interface MetadataDocumentFetcher {
  fetchClientMetadata(clientId: string): Promise<ClientMetadataDocument>;
}

/**
 * Registered clients are read from the store at most this often per instance. A client removed
 * by an administrator can still authenticate here for this long, but gets nothing from it: its
 * grants are revoked at once, and new client-credentials grants re-read the store.
 */
const CLIENT_CACHE_SECONDS = 5;

/**
 * Finds clients: pre-registered and DCR clients in the store; Client ID Metadata Document
 * clients by fetching their document (cached by the fetcher) and remembering them in the store
 * so that grants and the admin tools can name them.
 */
export class ClientRegistry {
  readonly #cache = new Map<string, { client: ClientRecord | undefined; until: number }>();
  /** The last CIMD document written to the store per client, so an unchanged one is not rewritten. */
  readonly #savedDocuments = new Map<string, string>();
  readonly #store: Store;
  readonly #fetcher: MetadataDocumentFetcher | undefined;
  readonly #isMetadataUrl: (clientId: string) => boolean;
  readonly #now: () => number;
  /** The CIMD hosts an administrator blocked, read from the store at most every CLIENT_CACHE_SECONDS. */
  #blockedHosts: { hosts: Set<string>; until: number } | undefined;

  constructor(
    store: Store,
    cimd: { fetcher: MetadataDocumentFetcher; isMetadataUrl: (id: string) => boolean } | undefined,
    now: () => number,
  ) {
    this.#store = store;
    this.#fetcher = cimd?.fetcher;
    this.#isMetadataUrl = cimd?.isMetadataUrl ?? (() => false);
    this.#now = now;
  }

  /** The stored client, through a short per-instance cache (see CLIENT_CACHE_SECONDS). */
  async #stored(clientId: string): Promise<ClientRecord | undefined> {
    const now = this.#now();
    const hit = this.#cache.get(clientId);
    if (hit && hit.until > now) return hit.client;
    const client = await this.#store.getClient(clientId);
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(clientId, { client, until: now + CLIENT_CACHE_SECONDS });
    return client;
  }

  /**
   * Reads the client from the store, bypassing the cache: for decisions that must see a removal
   * at once. A blocked client is `invalid_client`.
   */
  async fresh(clientId: string): Promise<ClientRecord | undefined> {
    this.#cache.delete(clientId);
    const client = await this.#stored(clientId);
    return client && refuseBlocked(client);
  }

  /** Forgets what this instance cached after an administrator blocked or unblocked a client or host. */
  forget(clientId?: string): void {
    if (clientId === undefined) this.#blockedHosts = undefined;
    else this.#cache.delete(clientId);
  }

  /** Whether an administrator blocked the host of this Client ID Metadata Document URL. */
  async #hostBlocked(clientId: string): Promise<boolean> {
    const now = this.#now();
    if (!this.#blockedHosts || this.#blockedHosts.until <= now) {
      const hosts = new Set((await this.#store.listBlockedHosts()).map((h) => h.host));
      this.#blockedHosts = { hosts, until: now + CLIENT_CACHE_SECONDS };
    }
    // A malformed URL is no blocked host's: the fetcher refuses it as invalid_client.
    return URL.canParse(clientId) && this.#blockedHosts.hosts.has(new URL(clientId).hostname);
  }

  /** Whether an administrator blocked this client or its CIMD host (through the same caches as `get`). */
  async isBlocked(clientId: string): Promise<boolean> {
    if ((await this.#stored(clientId))?.blocked === true) return true;
    return this.#isMetadataUrl(clientId) && (await this.#hostBlocked(clientId));
  }

  /**
   * The client, or `invalid_client` when it is unknown, its document is unusable, or an
   * administrator blocked it (or its CIMD host).
   */
  async get(clientId: string): Promise<ClientRecord> {
    return refuseBlocked(await this.#find(clientId));
  }

  async #find(clientId: string): Promise<ClientRecord> {
    // Registered clients first: a metadata document URL may also be pre-registered (CIMD draft §6).
    const stored = await this.#stored(clientId);
    if (stored && stored.kind !== 'cimd') return stored;
    if (this.#fetcher && this.#isMetadataUrl(clientId)) {
      // Before any fetch: a blocked host is never contacted again.
      if (await this.#hostBlocked(clientId)) {
        throw new ClientBlockedError('Client ID Metadata Documents from this host are blocked.');
      }
      const doc = await this.#fetcher.fetchClientMetadata(clientId);
      // The row as it is now, not as cached: an administrator may have removed it (`gatehouse
      // clients remove`), and the code exchange re-reads the store, so whenever this returns a
      // CIMD client its row exists. Its document is the client's registration; removal forgets
      // the row and revokes its grants, and the next use records the client again.
      const current = await this.fresh(clientId);
      if (current && current.kind !== 'cimd') return current;
      const client: ClientRecord = {
        client_id: doc.client_id,
        kind: 'cimd',
        client_name: doc.client_name,
        redirect_uris: doc.redirect_uris,
        token_endpoint_auth_method: doc.token_endpoint_auth_method,
        grant_types: doc.grant_types,
        scope: doc.scope,
        application_type: doc.application_type,
        client_uri: doc.client_uri,
        logo_uri: doc.logo_uri,
        jwks: doc.jwks,
        jwks_uri: doc.jwks_uri,
        created_at: current?.created_at ?? this.#now(),
      };
      const serialized = JSON.stringify(client);
      if (!current || this.#savedDocuments.get(clientId) !== serialized) {
        await this.#store.upsertClient(client);
        if (this.#savedDocuments.size >= 10_000) this.#savedDocuments.clear();
        this.#savedDocuments.set(clientId, serialized);
        this.#cache.delete(clientId);
      }
      return client;
    }
    if (!stored) throw new OAuthError('invalid_client', 'The client is not registered with this server.');
    return stored;
  }
}

/** A client an administrator blocked gets `invalid_client` wherever it shows up (RFC 6749 §5.2). */
function refuseBlocked(client: ClientRecord): ClientRecord {
  if (client.blocked === true)
    throw new ClientBlockedError('This client has been blocked by an administrator.');
  return client;
}

/** `invalid_client` for a client (or CIMD host) an administrator blocked, so pages can say so. */
export class ClientBlockedError extends OAuthError {
  constructor(description: string) {
    super('invalid_client', description);
  }
}
