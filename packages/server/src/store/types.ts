/**
 * The storage interface every Gatehouse store implements (SQLite embedded, PostgreSQL scale-out).
 * Secrets never reach it in plain text: codes, refresh tokens, client secrets and session ids are
 * passed in already hashed (HMAC under the server key), signing keys already encrypted.
 * Times are unix seconds.
 */

/** How a client came to be known. */
export type ClientKind = 'preregistered' | 'dcr' | 'cimd';

export interface ClientRecord {
  client_id: string;
  kind: ClientKind;
  client_name: string;
  redirect_uris: string[];
  token_endpoint_auth_method: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  grant_types: string[];
  /** Space-delimited scopes the client may request; undefined means any scope the AS offers. */
  scope?: string | undefined;
  application_type?: 'web' | 'native' | undefined;
  client_uri?: string | undefined;
  logo_uri?: string | undefined;
  /** HMAC of the client secret, for confidential clients. */
  secret_hash?: string | undefined;
  jwks?: { keys: Record<string, unknown>[] } | undefined;
  jwks_uri?: string | undefined;
  /**
   * A protected resource allowed to call the introspection endpoint (RFC 7662 §2.1, §4). Only an
   * administrator sets it (`gatehouse clients add --resource-server`); stores keep it outside the
   * metadata a client supplies, so DCR and CIMD can never set it.
   */
  resource_server?: boolean | undefined;
  /**
   * Blocked by an administrator (the admin console): the token, authorization and introspection
   * endpoints refuse the client from its next request. Like `resource_server`, a column of its own
   * that no registration can set.
   */
  blocked?: boolean | undefined;
  created_at: number;
}

/** A host whose Client ID Metadata Documents the registry refuses (an administrator blocked it). */
export interface BlockedHostRecord {
  host: string;
  blocked_at: number;
  /** The admin who blocked it. */
  blocked_by?: string | undefined;
}

export interface UserRecord {
  id: string;
  username: string;
  /** scrypt hash in PHC-like form. */
  password_hash: string;
  disabled: boolean;
  /** May use the admin console (`gatehouse users add --admin`, `gatehouse users promote`). */
  admin?: boolean | undefined;
  created_at: number;
}

/**
 * A user's identity at an upstream identity provider (issue #12): the provider's id in the
 * configuration and the subject it gives the user (`sub`, or a plain OAuth provider's user id).
 * The pair decides the user, never the email address, which is kept for display only.
 */
export interface IdentityRecord {
  provider: string;
  subject: string;
  user_id: string;
  email?: string | undefined;
  created_at: number;
}

export interface AuthorizationCodeRecord {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  code_challenge: string;
  resource: string;
  scope: string;
  expires_at: number;
  /** The request asked for `offline_access` and the user unticked it: no refresh token. */
  offline_declined?: boolean | undefined;
  /** Set when the code is redeemed: the grant it produced, so a replay can revoke it. */
  grant_id?: string | undefined;
  consumed_at?: number | undefined;
}

/**
 * The result of redeeming a code: first use, a replay of a used code, or a refusal because the
 * user it was issued for has since been disabled or removed (the code stays unused).
 */
export type CodeRedemption =
  | { status: 'redeemed'; code: AuthorizationCodeRecord }
  | { status: 'replayed'; code: AuthorizationCodeRecord }
  | { status: 'user_inactive' }
  | { status: 'not_found' };

/** A grant: one user's authorization of one client for one resource and scope. Tokens carry its id. */
export interface GrantRecord {
  id: string;
  client_id: string;
  /** The user id, or the client id for client_credentials. */
  subject: string;
  resource: string;
  scope: string;
  created_at: number;
  last_used_at: number;
  /** The refresh token lifetime ends here (absolute limit). */
  expires_at: number;
  revoked_at?: number | undefined;
}

/** What the caller decides about a grant created from a code; the rest comes from the code. */
export type NewGrantTimes = Pick<GrantRecord, 'id' | 'created_at' | 'last_used_at' | 'expires_at'>;

export interface GrantFilter {
  subject?: string | undefined;
  client_id?: string | undefined;
  include_revoked?: boolean | undefined;
}

export interface RefreshTokenRecord {
  token_hash: string;
  grant_id: string;
  client_id: string;
  scope: string;
  created_at: number;
  expires_at: number;
  /** Set when this token was rotated: the hash of its successor. */
  rotated_at?: number | undefined;
  successor_hash?: string | undefined;
  /** The encrypted successor response, so that a retry within the window gets the same tokens. */
  successor_response?: string | undefined;
}

/**
 * A revocation entry: a grant or a single access token (by jti), or a narrowed grant (`grant_id`
 * with `scope`: its tokens carry at most that scope from now on). Expires with the tokens it covers.
 */
export interface RevocationRecord {
  seq: number;
  grant_id?: string | undefined;
  jti?: string | undefined;
  /** Set on narrowing entries only: the space-delimited scope the grant was narrowed to. */
  scope?: string | undefined;
  expires_at: number;
}

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  public_jwk: Record<string, unknown>;
  /** The private JWK, encrypted with the at-rest key. */
  private_jwk_encrypted: string;
  created_at: number;
  /** Signs new tokens from this time; published in the JWKS from creation. */
  active_from: number;
  /** Stops signing at this time. */
  retired_at?: number | undefined;
  /** Unpublished after this time (every token it signed has expired). */
  expires_at?: number | undefined;
}

export interface ConsentRecord {
  user_id: string;
  client_id: string;
  scope: string;
  resource: string;
  granted_at: number;
}

export interface SessionRecord {
  id_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
}

/** A pending authorization request, parked while the user logs in and consents. */
export interface InteractionRecord {
  id: string;
  /** The validated authorization request, as JSON. */
  request: string;
  expires_at: number;
}

export interface AuditEvent {
  id?: number;
  at: number;
  type: string;
  actor?: string | undefined;
  client_id?: string | undefined;
  user_id?: string | undefined;
  grant_id?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

/**
 * A filter over the audit trail (every given field must match). `server`, `tool` and `outcome`
 * read the gateway's `mcp.call` detail (`server`, `name`, `outcome`); `since`/`until` bound `at`
 * (inclusive/exclusive); `before` is a cursor: only events with a smaller id (the next page).
 */
export interface AuditQuery {
  user_id?: string | undefined;
  client_id?: string | undefined;
  actor?: string | undefined;
  type?: string | undefined;
  server?: string | undefined;
  tool?: string | undefined;
  outcome?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  before?: number | undefined;
  /** At most this many events (default 100, at most 1000). */
  limit?: number | undefined;
}

/**
 * An aggregate over the audit trail for the admin overview: events of `types` with
 * `from <= at < to`, counted per bucket of `bucketSeconds` (buckets start at `from`).
 */
export interface AuditCountQuery {
  types: readonly string[];
  from: number;
  to: number;
  bucketSeconds: number;
}

/**
 * One group of an `AuditCountQuery`: the events of one type in one bucket with the same gateway
 * fields (`detail.server`, `detail.name`, `detail.outcome` of `mcp.call`; absent on other events).
 */
export interface AuditCount {
  type: string;
  /** The bucket's start time. */
  bucket: number;
  server?: string | undefined;
  name?: string | undefined;
  outcome?: string | undefined;
  count: number;
}

/**
 * One user's connection to an upstream API (the token vault, issue #12). Token values arrive
 * already encrypted (bound to user and provider) and are never returned in plain text by a store.
 * A refresh is single-flight across instances through a lease: the instance that takes it
 * (`lease_owner` until `lease_until`) refreshes, the others wait and read the row again.
 */
export interface ConnectionRecord {
  user_id: string;
  /** The connection's id in the configuration file's `connections` (e.g. `github`). */
  provider: string;
  access_token_encrypted: string;
  refresh_token_encrypted?: string | undefined;
  /** When the access token expires; undefined when the provider did not say. */
  expires_at?: number | undefined;
  /** The scope the provider granted, space-delimited, when it said. */
  scope?: string | undefined;
  /** `broken`: a refresh failed terminally; the user must connect again. */
  state: 'active' | 'broken';
  created_at: number;
  updated_at: number;
  lease_until?: number | undefined;
  lease_owner?: string | undefined;
}

/** What a finished refresh writes: new tokens, or the terminal failure that breaks the connection. */
export type ConnectionRefreshOutcome =
  | {
      access_token_encrypted: string;
      refresh_token_encrypted?: string | undefined;
      expires_at?: number | undefined;
      scope?: string | undefined;
    }
  | { broken: true };

/** A refresh token and its grant (undefined when the grant is gone), read together. */
export type RefreshTokenWithGrant = { token: RefreshTokenRecord; grant: GrantRecord | undefined };

/** What a compare-and-swap rotation did (`Store.rotateRefreshToken`). */
export type RefreshTokenRotation =
  | { status: 'rotated' }
  | { status: 'already_rotated'; token: RefreshTokenRecord }
  | { status: 'user_inactive' }
  | { status: 'not_found' };

export interface Store {
  close(): Promise<void>;

  createClient(client: ClientRecord): Promise<void>;
  /** Inserts or replaces (used for CIMD clients, whose documents may change). */
  upsertClient(client: ClientRecord): Promise<void>;
  getClient(clientId: string): Promise<ClientRecord | undefined>;
  listClients(): Promise<ClientRecord[]>;
  countClients(kind: ClientKind): Promise<number>;
  deleteClient(clientId: string): Promise<boolean>;
  /** Blocks or unblocks a client; false when it does not exist. */
  setClientBlocked(clientId: string, blocked: boolean): Promise<boolean>;
  /** When each client's grants were last used (the latest `last_used_at`), by client id. */
  clientsLastUsed(): Promise<Map<string, number>>;
  /** Blocks a CIMD host (idempotent: blocking it again keeps the first record). */
  blockHost(host: BlockedHostRecord): Promise<void>;
  /** Unblocks a host; false when it was not blocked. */
  unblockHost(host: string): Promise<boolean>;
  isHostBlocked(host: string): Promise<boolean>;
  listBlockedHosts(): Promise<BlockedHostRecord[]>;

  createUser(user: UserRecord): Promise<void>;
  getUser(id: string): Promise<UserRecord | undefined>;
  getUserByName(username: string): Promise<UserRecord | undefined>;
  listUsers(): Promise<UserRecord[]>;
  setUserDisabled(id: string, disabled: boolean): Promise<boolean>;
  /** Grants or takes away the admin role; false when the user does not exist. */
  setUserAdmin(id: string, admin: boolean): Promise<boolean>;
  deleteUser(id: string): Promise<boolean>;

  /**
   * Creates a user and its first identity together, atomically, unless the identity is already
   * linked (then nothing is written and false is returned): two first sign-ins of one person at
   * once provision one user.
   */
  createUserWithIdentity(user: UserRecord, identity: IdentityRecord): Promise<boolean>;
  getIdentity(provider: string, subject: string): Promise<IdentityRecord | undefined>;
  /** Identities by provider and subject; one user's when `userId` is given. */
  listIdentities(userId?: string): Promise<IdentityRecord[]>;
  /** Links an identity to an existing user; false when the pair is already linked (to anyone). */
  linkIdentity(identity: IdentityRecord): Promise<boolean>;
  /** False when the pair was not linked. */
  unlinkIdentity(provider: string, subject: string): Promise<boolean>;

  saveCode(code: AuthorizationCodeRecord): Promise<void>;
  /**
   * Atomically marks a code consumed and creates the grant it produces (client, subject,
   * resource and scope copied from the code). Exactly one caller ever gets `redeemed`; later
   * callers get `replayed`, whose `grant_id` names the grant to revoke. A code whose user is
   * disabled or removed is not redeemed (`user_inactive`), checked in the same atomic step, so a
   * code issued just before `gatehouse users disable` never becomes a grant.
   */
  redeemCode(codeHash: string, grant: NewGrantTimes, now: number): Promise<CodeRedemption>;

  createGrant(grant: GrantRecord): Promise<void>;
  getGrant(id: string): Promise<GrantRecord | undefined>;
  listGrants(filter: GrantFilter): Promise<GrantRecord[]>;
  /**
   * Revokes a grant and records a revocation entry (atomically); returns false if it was
   * already revoked or does not exist.
   */
  revokeGrant(id: string, now: number, revocationExpiresAt: number): Promise<boolean>;
  /**
   * Narrows a live grant to at most `scope` (space-delimited; the grant's scope and `scope` meet
   * along the hierarchy, see `narrowScopes`), so a narrowing can never widen, whatever the order
   * of concurrent ones. When the scope shrinks it records a narrowing entry that expires at
   * `revocationExpiresAt`, atomically, so guards cap tokens already issued. Returns the grant's
   * scope afterwards, or undefined when the grant is missing or revoked.
   */
  narrowGrant(
    id: string,
    scope: string,
    now: number,
    revocationExpiresAt: number,
  ): Promise<string | undefined>;

  saveRefreshToken(token: RefreshTokenRecord): Promise<void>;
  getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * A refresh token and its grant (undefined when the grant is gone) in one read: the refresh
   * grant's first step, one statement (one round trip on a network store) instead of two.
   */
  getRefreshTokenWithGrant(tokenHash: string): Promise<RefreshTokenWithGrant | undefined>;
  /**
   * Compare-and-swap rotation: marks `tokenHash` rotated, stores its successor and records the
   * grant as used at `now`, atomically, only if it has not been rotated yet. Under any interleaving exactly one caller per token
   * gets `rotated`; the others get `already_rotated` with the record as the winner left it.
   * A token whose grant's user is disabled or removed is not rotated (`user_inactive`): the check
   * rides in the same statement, so the hot path pays no extra round trip for it.
   */
  rotateRefreshToken(
    tokenHash: string,
    successor: RefreshTokenRecord,
    successorResponse: string,
    now: number,
  ): Promise<RefreshTokenRotation>;

  /** Records the revocation of one access token. */
  revokeAccessToken(jti: string, expiresAt: number): Promise<void>;
  /** Revocation and narrowing entries with seq greater than `after` that have not expired by `now`. */
  listRevocations(after: number, now: number): Promise<RevocationRecord[]>;
  /** Whether the token or its grant is revoked (narrowing entries do not count). */
  isRevoked(jti: string, grantId: string | undefined): Promise<boolean>;

  saveSigningKey(key: SigningKeyRecord): Promise<void>;
  /**
   * Optional: saves `key` only if no key signs at `now` (see `signsAt`), atomically with respect to
   * every instance sharing the store, and says whether it did. Instances starting together on an
   * empty store then agree on one first key instead of each signing with its own. Stores without
   * it fall back to `saveSigningKey`.
   */
  saveSigningKeyIfNoneSigns?(key: SigningKeyRecord, now: number): Promise<boolean>;
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  updateSigningKey(kid: string, changes: Pick<SigningKeyRecord, 'retired_at' | 'expires_at'>): Promise<void>;

  getConsent(userId: string, clientId: string, resource: string): Promise<ConsentRecord | undefined>;
  saveConsent(consent: ConsentRecord): Promise<void>;

  createSession(session: SessionRecord): Promise<void>;
  getSession(idHash: string, now: number): Promise<SessionRecord | undefined>;
  deleteSession(idHash: string): Promise<void>;
  deleteUserSessions(userId: string): Promise<void>;

  saveInteraction(interaction: InteractionRecord): Promise<void>;
  getInteraction(id: string, now: number): Promise<InteractionRecord | undefined>;
  /**
   * Removes an unexpired interaction and returns it, atomically: of any number of concurrent
   * callers (on any instance) exactly one gets the record, so one consent issues one code.
   */
  takeInteraction(id: string, now: number): Promise<InteractionRecord | undefined>;

  /**
   * Counts a hit in a fixed window and returns the count so far in that window, this hit
   * included, atomically: of N concurrent hits exactly one sees each of 1…N, so a caller that
   * counts before the expensive check it limits lets exactly `limit` callers through.
   */
  hitRateLimit(key: string, windowSeconds: number, now: number): Promise<number>;
  /**
   * Takes back one hit counted at `now` (never below zero), atomically: for an attempt that turned
   * out not to count against the limit, such as a successful sign-in.
   */
  refundRateLimit(key: string, windowSeconds: number, now: number): Promise<void>;
  /** The count so far in the current window, without counting a hit. */
  countRateLimit(key: string, windowSeconds: number, now: number): Promise<number>;

  appendAudit(event: AuditEvent): Promise<void>;
  /** Appends several events in one transaction, in order. */
  appendAuditEvents(events: readonly AuditEvent[]): Promise<void>;
  listAudit(options: { after?: number; limit?: number }): Promise<AuditEvent[]>;
  /** The audit events matching `query`, newest first (see `AuditQuery`). */
  queryAudit(query: AuditQuery): Promise<AuditEvent[]>;
  /**
   * Counts audit events per time bucket and per gateway fields (GROUP BY bucket), in one pass
   * over the period through the (type, at) index: the admin overview's charts.
   */
  countAuditEvents(query: AuditCountQuery): Promise<AuditCount[]>;

  /**
   * Optional: calls `onChange` whenever any instance records a revocation, so that this instance
   * syncs at once rather than at its next poll. Resolves to an unsubscribe function.
   */
  subscribeRevocations?(onChange: () => void): Promise<() => Promise<void>>;

  /** Inserts or replaces a user's connection (a new connect): active, with no lease. */
  saveConnection(connection: ConnectionRecord): Promise<void>;
  getConnection(userId: string, provider: string): Promise<ConnectionRecord | undefined>;
  /** Connections by user and provider; every user's when `userId` is undefined. */
  listConnections(userId?: string): Promise<ConnectionRecord[]>;
  /** False when there was none. */
  deleteConnection(userId: string, provider: string): Promise<boolean>;
  /**
   * Takes the refresh lease of a connection until `until`, atomically: of any number of callers
   * on any instance exactly one gets true while the lease is held (`lease_until > now`).
   */
  takeConnectionLease(
    userId: string,
    provider: string,
    owner: string,
    now: number,
    until: number,
  ): Promise<boolean>;
  /**
   * Writes a refresh's outcome and releases the lease, only while `owner` holds it (a lease that
   * expired and was taken by another instance is not overwritten); says whether it wrote.
   */
  finishConnectionRefresh(
    userId: string,
    provider: string,
    owner: string,
    outcome: ConnectionRefreshOutcome,
    now: number,
  ): Promise<boolean>;
  /** Releases a lease without changing the tokens (a transient failure: the next caller retries). */
  releaseConnectionLease(userId: string, provider: string, owner: string): Promise<void>;

  /** Deletes expired codes, sessions, interactions, revocations and rate-limit windows. */
  prune(now: number): Promise<void>;
}
