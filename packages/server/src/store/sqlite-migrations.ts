/**
 * Versioned schema for the SQLite store. Append new versions; never edit a released one.
 * `PRAGMA user_version` records how far a database has come.
 */
export const sqliteMigrations: readonly string[] = [
  // 1: the authorization server's foundation
  `
  CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    client_name TEXT NOT NULL,
    metadata TEXT NOT NULL,
    secret_hash TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX clients_kind ON clients(kind);

  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    resource TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    grant_id TEXT,
    consumed_at INTEGER
  );

  CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    resource TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE INDEX grants_subject ON grants(subject);
  CREATE INDEX grants_client ON grants(client_id);

  CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER,
    successor_hash TEXT,
    successor_response TEXT
  );
  CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);

  CREATE TABLE revocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    grant_id TEXT,
    jti TEXT,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX revocations_grant ON revocations(grant_id);
  CREATE INDEX revocations_jti ON revocations(jti);

  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    private_jwk_encrypted TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    active_from INTEGER NOT NULL,
    retired_at INTEGER,
    expires_at INTEGER
  );

  CREATE TABLE consents (
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id, resource)
  );

  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_user ON sessions(user_id);

  CREATE TABLE interactions (
    id TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );

  CREATE TABLE rate_limits (
    key TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
  );

  CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    actor TEXT,
    client_id TEXT,
    user_id TEXT,
    grant_id TEXT,
    detail TEXT
  );
  `,
  // 2: clients an administrator marked as protected resources (RFC 7662 §2.1: introspection is
  // theirs). A column of its own, outside the client-supplied metadata, so no registration can set it.
  `
  ALTER TABLE clients ADD COLUMN resource_server INTEGER NOT NULL DEFAULT 0;
  `,
  // 3: narrowed grants. A revocation row with a scope caps the grant's tokens at that scope instead
  // of revoking them, and travels to guards by the same feed, with the same latency.
  `
  ALTER TABLE revocations ADD COLUMN scope TEXT;
  `,
  // 4: a code whose user unticked offline_access at consent: it yields no refresh token.
  `
  ALTER TABLE authorization_codes ADD COLUMN offline_declined INTEGER NOT NULL DEFAULT 0;
  `,
  // 5: the admin console. The admin role on users; clients an administrator blocked (columns of
  // their own, outside the client-supplied metadata); CIMD hosts an administrator blocked.
  `
  ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE clients ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE blocked_hosts (
    host TEXT PRIMARY KEY,
    blocked_at INTEGER NOT NULL,
    blocked_by TEXT
  );
  `,
  // 6: the admin overview's counts per period (GROUP BY bucket): events of a few types in a time
  // range, found through an index instead of reading the whole trail.
  `
  CREATE INDEX audit_events_type_at ON audit_events (type, at);
  `,
  // 7: the admin audit trail's filters (newest first, by user, client or gateway server) read an
  // index in id order instead of the whole trail. The server expression is the one queryAudit uses.
  `
  CREATE INDEX audit_events_user ON audit_events (user_id, id);
  CREATE INDEX audit_events_client ON audit_events (client_id, id);
  CREATE INDEX audit_events_server ON audit_events (json_extract(detail, '$.server'), id);
  `,
  // 8: identities at upstream identity providers (issue #12). A user is found by (provider,
  // subject), never by email: an email address can change hands, a subject never does.
  `
  CREATE TABLE identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL,
    email TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
  );
  CREATE INDEX identities_user ON identities (user_id);
  `,
  // 9: the token vault. A user's upstream API tokens per provider, encrypted (bound to user and
  // provider); the lease columns make a refresh single-flight across instances.
  `
  CREATE TABLE connections (
    user_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    access_token_encrypted TEXT NOT NULL,
    refresh_token_encrypted TEXT,
    expires_at INTEGER,
    scope TEXT,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'broken')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    lease_until INTEGER,
    lease_owner TEXT,
    PRIMARY KEY (user_id, provider)
  );
  `,
  // 10: refresh tokens are only ever found by their hash; the index by grant served no query and
  // cost every rotation a write to a random page of it (the successor's entry, and on PostgreSQL
  // another for the rotated row's new version).
  `
  DROP INDEX IF EXISTS refresh_tokens_grant;
  `,
];
