import { OAuthError } from '@gatehouse/core';
import type { ClientRecord, Store } from '../store/types.ts';
import type { ClientMetadataDocument } from './cimd/metadata-document.ts';

export interface MetadataDocumentFetcher {
  fetchClientMetadata(clientId: string): Promise<ClientMetadataDocument>;
}

/**
 * Finds clients: pre-registered and DCR clients in the store; Client ID Metadata Document
 * clients by fetching their document (cached by the fetcher) and remembering them in the store
 * so that grants and the admin tools can name them.
 */
export class ClientRegistry {
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

  /** The client, or `invalid_client` when it is unknown or its document is unusable. */
  async get(clientId: string): Promise<ClientRecord> {
    // Registered clients first: a metadata document URL may also be pre-registered (CIMD draft §6).
    const stored = await this.#store.getClient(clientId);
    if (stored && stored.kind !== 'cimd') return stored;
    if (this.#fetcher && this.#isMetadataUrl(clientId)) {
      const doc = await this.#fetcher.fetchClientMetadata(clientId);
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
        created_at: stored?.created_at ?? this.#now(),
      };
      await this.#store.upsertClient(client);
      return client;
    }
    if (!stored) throw new OAuthError('invalid_client', 'The client is not registered with this server.');
    return stored;
  }
}
