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

  /** Reads the client from the store, bypassing the cache: for decisions that must see a removal at once. */
  async fresh(clientId: string): Promise<ClientRecord | undefined> {
    this.#cache.delete(clientId);
    return this.#stored(clientId);
  }

  /** The client, or `invalid_client` when it is unknown or its document is unusable. */
  async get(clientId: string): Promise<ClientRecord> {
    // Registered clients first: a metadata document URL may also be pre-registered (CIMD draft §6).
    const stored = await this.#stored(clientId);
    if (stored && stored.kind !== 'cimd') return stored;
    if (this.#fetcher && this.#isMetadataUrl(clientId)) {
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
