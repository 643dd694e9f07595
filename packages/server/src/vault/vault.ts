import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oidc from 'openid-client';
import type { Secrets } from '../secrets.ts';
import type { ConnectionRecord, Store } from '../store/types.ts';
import { type UpstreamConnectionConfig, upstreamClient } from './upstream-client.ts';

/** What the gateway gets for a user and a provider: the token, or the page where the user (re)connects. */
export type VaultAnswer = { token: string } | { missing: string } | { broken: string };

/** What a connection's token response leaves in the vault (before encryption). */
export interface UpstreamTokens {
  access_token: string;
  refresh_token?: string | undefined;
  expires_in?: number | undefined;
  scope?: string | undefined;
}

/** A token this close to its expiry is refreshed first, so it does not expire on its way upstream. */
const REFRESH_MARGIN_SECONDS = 60;
/** How long an instance may hold a refresh lease: the refresh's own deadline, with room. */
const LEASE_SECONDS = 30;
/**
 * The error codes with which a provider refuses a refresh token for good (RFC 6749 §5.2's, and
 * GitHub's own): only a new connect helps.
 */
const TERMINAL_REFRESH_ERRORS = new Set(['invalid_grant', 'bad_refresh_token']);
/** A token the upstream refused is refreshed at most this often (per connection). */
const REJECTED_REFRESH_SECONDS = 60;
/** How often an instance waiting for another one's refresh reads the row again. */
const WAIT_POLL_MS = 50;

/**
 * The token vault (issue #12): each user's upstream API tokens per configured connection,
 * encrypted at rest with the master-secret-derived key and bound to (user, provider), so a
 * ciphertext moved to another user's row does not decrypt. Tokens are refreshed before expiry,
 * single-flight: one promise per connection in this process, and a lease row across instances
 * (the instance that takes it refreshes; the others wait and read the row again). A terminal
 * refresh failure (`invalid_grant`) marks the connection broken: the user connects again.
 *
 * Tokens are per user: only the user's own id reaches them, and a disabled or removed user's
 * connections answer `missing`. Revoking a user's Gatehouse grants leaves nobody able to ask for
 * their tokens, since the gateway asks with the `sub` of a live access token.
 */
export class Vault {
  readonly #store: Store;
  readonly #secrets: Secrets;
  readonly #now: () => number;
  readonly #issuer: string;
  readonly #clients = new Map<string, oidc.Configuration>();
  readonly #scopes = new Map<string, string>();
  readonly #revocable = new Set<string>();
  readonly #inFlight = new Map<string, Promise<VaultAnswer>>();
  /** When this instance last refreshed a connection because its upstream refused the token. */
  readonly #rejectedRefreshAt = new Map<string, number>();
  /** This instance's name on leases. */
  readonly #owner = randomUUID();

  constructor(options: {
    store: Store;
    secrets: Secrets;
    issuer: string;
    now: () => number;
    connections: ReadonlyMap<string, UpstreamConnectionConfig>;
  }) {
    this.#store = options.store;
    this.#secrets = options.secrets;
    this.#now = options.now;
    this.#issuer = options.issuer;
    for (const [id, config] of options.connections) {
      this.#clients.set(id, upstreamClient(id, config));
      this.#scopes.set(id, config.scopes.join(' '));
      if (config.revocationEndpoint) this.#revocable.add(id);
    }
  }

  /** The configured connection ids. */
  providers(): string[] {
    return [...this.#clients.keys()];
  }

  has(provider: string): boolean {
    return this.#clients.has(provider);
  }

  /** The page where a user connects (or reconnects) `provider`. */
  connectUrl(provider: string): string {
    return `${this.#issuer}/connect/${encodeURIComponent(provider)}`;
  }

  /** The openid-client configuration of a connection, for the connect flow. */
  client(provider: string): oidc.Configuration | undefined {
    return this.#clients.get(provider);
  }

  scope(provider: string): string {
    return this.#scopes.get(provider) ?? '';
  }

  /**
   * The user's current upstream access token for `provider`, refreshed first when it expires
   * within a minute; or where to connect when there is none or it broke.
   *
   * @example
   * const answer = await vault.accessToken(userId, 'github');
   * if ('token' in answer) headers.set('authorization', `Bearer ${answer.token}`);
   */
  async accessToken(userId: string, provider: string): Promise<VaultAnswer> {
    if (!this.#clients.has(provider)) throw new Error(`no connection named ${JSON.stringify(provider)}`);
    const user = await this.#store.getUser(userId);
    if (!user || user.disabled) return { missing: this.connectUrl(provider) };
    const row = await this.#store.getConnection(userId, provider);
    return this.#answer(row) ?? this.#refreshOnce(userId, provider);
  }

  /** The refresh of this connection in flight in this process, or a new one (single-flight). */
  #refreshOnce(
    userId: string,
    provider: string,
    isRejected?: (token: string) => boolean,
  ): Promise<VaultAnswer> {
    const key = JSON.stringify([userId, provider]);
    let flight = this.#inFlight.get(key);
    if (!flight) {
      flight = this.#refresh(userId, provider, isRejected).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, flight);
    }
    return flight;
  }

  /** Stores the tokens of a completed connect (replacing any earlier connection, broken or not). */
  async save(userId: string, provider: string, tokens: UpstreamTokens): Promise<void> {
    const now = this.#now();
    await this.#store.saveConnection({
      user_id: userId,
      provider,
      ...this.#encrypted(userId, provider, tokens, now),
      state: 'active',
      created_at: now,
      updated_at: now,
    });
  }

  /**
   * Removes a connection, revoking its upstream tokens first where the provider has a revocation
   * endpoint (RFC 7009). A revocation that fails does not keep the connection: the user asked for
   * it to go. Returns false when there was none.
   */
  async remove(userId: string, provider: string): Promise<boolean> {
    const row = await this.#store.getConnection(userId, provider);
    if (!row) return false;
    if (this.#revocable.has(provider)) {
      // Tokens sealed under an earlier master secret cannot be read, hence not revoked: the
      // connection still goes.
      let tokens: { refresh: string | undefined; access: string } | undefined;
      try {
        tokens = this.#decrypt(row);
      } catch {}
      if (tokens) await this.#revoke(provider, tokens.refresh, tokens.access);
    }
    return this.#store.deleteConnection(userId, provider);
  }

  /**
   * The upstream refused the token it was given (HTTP 401): `isRejected` tells that token when it
   * sees it. Unless another caller has replaced it meanwhile, it is refreshed now (single-flight,
   * as before expiry), at most once a minute: an upstream that refuses every token must not make
   * every call refresh. A token that cannot be refreshed answers `broken` (reconnect) for this
   * call without breaking the stored connection: one refusal may be the upstream's own fault
   * (misconfigured, or behind a proxy), and it must not disconnect every user at once.
   */
  async rejected(
    userId: string,
    provider: string,
    isRejected: (token: string) => boolean,
  ): Promise<VaultAnswer> {
    if (!this.#clients.has(provider)) throw new Error(`no connection named ${JSON.stringify(provider)}`);
    const row = await this.#store.getConnection(userId, provider);
    const current = row ? this.#answer(row) : undefined;
    if (!row || row.state === 'broken' || (current && 'token' in current && !isRejected(current.token))) {
      return current ?? (await this.accessToken(userId, provider));
    }
    if (row.refresh_token_encrypted === undefined) return { broken: this.connectUrl(provider) };
    const key = JSON.stringify([userId, provider]);
    // Callers joining a refresh in flight join it; a new one starts at most once a minute.
    if (!this.#inFlight.has(key)) {
      const last = this.#rejectedRefreshAt.get(key);
      if (last !== undefined && this.#now() - last < REJECTED_REFRESH_SECONDS) {
        return { broken: this.connectUrl(provider) };
      }
      this.#rejectedRefreshAt.set(key, this.#now());
    }
    return this.#refreshOnce(userId, provider, isRejected);
  }

  /** Revokes a connection's tokens where the provider allows it (RFC 7009); failures are ignored. */
  async #revoke(provider: string, refresh: string | undefined, access: string | undefined): Promise<void> {
    const client = this.#clients.get(provider);
    if (!client || !this.#revocable.has(provider)) return;
    // Revoking the refresh token ends the grant at most providers (RFC 7009 §2.1); the access
    // token too, for those that do not cascade.
    for (const [token, hint] of [
      [refresh, 'refresh_token'],
      [access, 'access_token'],
    ] as const) {
      if (token) await oidc.tokenRevocation(client, token, { token_type_hint: hint }).catch(() => {});
    }
  }

  /** The answer a row gives without a refresh, or undefined when it needs one. */
  #answer(
    row: ConnectionRecord | undefined,
    isRejected?: (token: string) => boolean,
  ): VaultAnswer | undefined {
    if (!row) return undefined;
    if (row.state === 'broken') return { broken: this.connectUrl(row.provider) };
    const access = this.#decrypt(row).access;
    if (isRejected?.(access)) return undefined;
    if (row.expires_at === undefined || row.expires_at - this.#now() > REFRESH_MARGIN_SECONDS) {
      return { token: access };
    }
    return undefined;
  }

  async #refresh(
    userId: string,
    provider: string,
    isRejected?: (token: string) => boolean,
  ): Promise<VaultAnswer> {
    for (;;) {
      const now = this.#now();
      if (await this.#store.takeConnectionLease(userId, provider, this.#owner, now, now + LEASE_SECONDS)) {
        try {
          return await this.#refreshHoldingLease(userId, provider, isRejected);
        } catch (err) {
          // Whatever went wrong (the provider, a ciphertext that no longer decrypts), the lease
          // must not outlive it: other callers and instances would wait for nothing.
          await this.#store.releaseConnectionLease(userId, provider, this.#owner).catch(() => {});
          throw err;
        }
      }
      // Another instance refreshes: wait for its outcome (or for its lease to lapse).
      await sleep(WAIT_POLL_MS);
      const row = await this.#store.getConnection(userId, provider);
      if (!row) return { missing: this.connectUrl(provider) };
      const answer = this.#answer(row, isRejected);
      if (answer) return answer;
    }
  }

  async #refreshHoldingLease(
    userId: string,
    provider: string,
    isRejected?: (token: string) => boolean,
  ): Promise<VaultAnswer> {
    const row = await this.#store.getConnection(userId, provider);
    // Removed meanwhile, or refreshed (or broken) by another instance between our read and the lease.
    const done = row ? this.#answer(row, isRejected) : { missing: this.connectUrl(provider) };
    if (done) {
      await this.#store.releaseConnectionLease(userId, provider, this.#owner);
      return done;
    }
    const { refresh } = this.#decrypt(row as ConnectionRecord);
    if (!refresh) return this.#breaks(userId, provider);
    let response: oidc.TokenEndpointResponse;
    try {
      response = await oidc.refreshTokenGrant(this.#client(provider), refresh);
    } catch (err) {
      // The provider refused the refresh token: only a new connect helps. Anything else
      // (network, deadline, 5xx) may pass: the next caller tries again.
      if (err instanceof oidc.ResponseBodyError && TERMINAL_REFRESH_ERRORS.has(err.error)) {
        return this.#breaks(userId, provider);
      }
      throw new Error(`refreshing the ${provider} connection failed; try again`, { cause: err });
    }
    const now = this.#now();
    const encrypted = this.#encrypted(userId, provider, response, now);
    if (await this.#store.finishConnectionRefresh(userId, provider, this.#owner, encrypted, now)) {
      return { token: response.access_token };
    }
    // Not stored: the connection was removed meanwhile (its new tokens are revoked, not used nor
    // left live upstream), or reconnected, or another instance refreshed it after our lease
    // lapsed. Then what is stored stands, and nothing is revoked: revoking a token revokes its
    // whole grant at some providers (Google), which may be the stored connection's too.
    const current = await this.#store.getConnection(userId, provider);
    if (!current) await this.#revoke(provider, response.refresh_token, response.access_token);
    return (current && this.#answer(current)) || { missing: this.connectUrl(provider) };
  }

  async #breaks(userId: string, provider: string): Promise<VaultAnswer> {
    await this.#store.finishConnectionRefresh(userId, provider, this.#owner, { broken: true }, this.#now());
    return { broken: this.connectUrl(provider) };
  }

  #client(provider: string): oidc.Configuration {
    const client = this.#clients.get(provider);
    if (!client) throw new Error(`no connection named ${JSON.stringify(provider)}`);
    return client;
  }

  /** The additional data that binds a ciphertext to its user, provider and kind. */
  #context(userId: string, provider: string, kind: 'access' | 'refresh'): string {
    return JSON.stringify(['connection', userId, provider, kind]);
  }

  #encrypted(userId: string, provider: string, tokens: UpstreamTokens, now: number) {
    return {
      access_token_encrypted: this.#secrets.encrypt(
        tokens.access_token,
        this.#context(userId, provider, 'access'),
      ),
      refresh_token_encrypted:
        tokens.refresh_token === undefined
          ? undefined
          : this.#secrets.encrypt(tokens.refresh_token, this.#context(userId, provider, 'refresh')),
      expires_at: typeof tokens.expires_in === 'number' ? now + tokens.expires_in : undefined,
      scope: tokens.scope,
    };
  }

  #decrypt(row: ConnectionRecord): { access: string; refresh: string | undefined } {
    return {
      access: this.#secrets.decrypt(
        row.access_token_encrypted,
        this.#context(row.user_id, row.provider, 'access'),
      ),
      refresh:
        row.refresh_token_encrypted === undefined
          ? undefined
          : this.#secrets.decrypt(
              row.refresh_token_encrypted,
              this.#context(row.user_id, row.provider, 'refresh'),
            ),
    };
  }
}
