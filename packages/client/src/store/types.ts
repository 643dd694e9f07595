import type { ClientInformation } from '@gatehouse/core';

/** Tokens for one (authorization server, resource) pair. */
export interface StoredTokens {
  /** The authorization server's issuer identifier (RFC 8414). */
  issuer: string;
  /** The protected resource (RFC 8707 `resource`) the tokens are for. */
  resource: string;
  client_id: string;
  access_token: string;
  token_type: string;
  /** Milliseconds since the epoch; absent when the server did not say. */
  expires_at?: number;
  refresh_token?: string;
  /** The scope granted (or, when the server did not say, requested). */
  scope?: string;
  updated_at: number;
}

/** A client registration with one authorization server (RFC 6749 §2.2: ids are per issuer). */
export interface StoredClient extends ClientInformation {
  issuer: string;
  token_endpoint_auth_method: string;
  source: 'pre-registered' | 'cimd' | 'dcr';
  registered_at: number;
}

/**
 * Where the client keeps registrations and tokens. Implementations must be safe to share between
 * processes when they say so: `withLock` is how refreshes stay single-flight across processes.
 */
export interface TokenStore {
  getTokens(issuer: string, resource: string): Promise<StoredTokens | undefined>;
  setTokens(tokens: StoredTokens): Promise<void>;
  deleteTokens(issuer: string, resource: string): Promise<void>;
  listTokens(): Promise<StoredTokens[]>;
  getClient(issuer: string): Promise<StoredClient | undefined>;
  setClient(client: StoredClient): Promise<void>;
  deleteClient(issuer: string): Promise<void>;
  /** Runs `fn` holding an exclusive lock called `name`, across every user of this store. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export function tokensKey(issuer: string, resource: string): string {
  return JSON.stringify([issuer, resource]);
}
