import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { auditQuerySql, SQLITE_AUDIT } from './audit-query.ts';
import {
  lostRotation,
  narrowedGrantScope,
  REFRESH_TOKEN_WITH_GRANT_COLUMNS,
  type Row,
  toAudit,
  toAuditCount,
  toBlockedHost,
  toClient,
  toCode,
  toConnection,
  toConsent,
  toGrant,
  toIdentity,
  toInteraction,
  toKey,
  toRefreshToken,
  toRefreshTokenWithGrant,
  toRevocation,
  toSession,
  toUser,
} from './rows.ts';
import { sqliteMigrations } from './sqlite-migrations.ts';
import { turnBatch } from './turn-batch.ts';
import type {
  AuditCount,
  AuditCountQuery,
  AuditEvent,
  AuditQuery,
  AuthorizationCodeRecord,
  BlockedHostRecord,
  ClientKind,
  ClientRecord,
  CodeRedemption,
  ConnectionRecord,
  ConnectionRefreshOutcome,
  ConsentRecord,
  GrantFilter,
  GrantRecord,
  IdentityRecord,
  InteractionRecord,
  NewGrantTimes,
  RefreshTokenRecord,
  RefreshTokenRotation,
  RefreshTokenWithGrant,
  RevocationRecord,
  SessionRecord,
  SigningKeyRecord,
  Store,
  UserRecord,
} from './types.ts';

/** A rotation waiting for its batch's transaction. */
interface PendingRotation {
  tokenHash: string;
  successor: RefreshTokenRecord;
  successorResponse: string;
  now: number;
}

/** How often the checkpoint thread checkpoints. */
const CHECKPOINT_INTERVAL_MS = 50;
/** Write transactions before a store starts its checkpoint thread (short-lived stores never do). */
const CHECKPOINTER_AFTER_WRITES = 256;
/** While the thread runs, SQLite's own checkpoint is only a backstop (pages of WAL). */
const BACKSTOP_AUTOCHECKPOINT = 20_000;
/** Bytes of WAL file kept when the WAL starts over. */
const WAL_SIZE_LIMIT = 16 * 1024 * 1024;

const userVersion = (db: DatabaseSync) =>
  Number((db.prepare('PRAGMA user_version').get() as Row).user_version);

/**
 * Runs pending migrations, one write transaction each. The version is read again inside the
 * transaction: several processes may open a fresh file at once, and only one may apply a version.
 */
function migrate(db: DatabaseSync): void {
  while (userVersion(db) < sqliteMigrations.length) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const version = userVersion(db);
      if (version < sqliteMigrations.length) {
        db.exec(sqliteMigrations[version] as string);
        db.exec(`PRAGMA user_version = ${version + 1}`);
      }
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
}

/**
 * The embedded store: one SQLite file in WAL mode via `node:sqlite`. Several processes (the
 * server and admin commands) may open the same file; writers wait for each other.
 */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #statements = new Map<string, StatementSync>();
  #writes = 0;
  #checkpointer: Worker | undefined;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#path = path;
    this.#db = new DatabaseSync(path);
    // busy_timeout first: switching to WAL itself needs a lock another process may hold.
    this.#db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    migrate(this.#db);
  }

  /** A cached prepared statement. */
  #sql(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      if (++this.#writes === CHECKPOINTER_AFTER_WRITES) this.#startCheckpointer();
      return result;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  /** A busy store on a file checkpoints from its own thread (sqlite-checkpointer.ts). */
  #startCheckpointer(): void {
    if (this.#path === ':memory:' || this.#checkpointer) return;
    const worker = new Worker(new URL('./sqlite-checkpointer.ts', import.meta.url), {
      workerData: { path: this.#path, intervalMs: CHECKPOINT_INTERVAL_MS },
    });
    // Should the thread fail, SQLite's own checkpoint (the backstop below) keeps the WAL bounded.
    worker.on('error', () => {});
    worker.unref();
    this.#checkpointer = worker;
    // The WAL file, grown while a checkpoint lagged, is cut back when it starts over.
    this.#db.exec(
      `PRAGMA wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT}; PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT}`,
    );
  }

  async close(): Promise<void> {
    // Lookups and rotations already asked for are answered (rotations committed) before the file closes.
    await this.#lookup.drain();
    await this.#rotation.drain();
    const worker = this.#checkpointer;
    this.#checkpointer = undefined;
    if (worker) {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('stop');
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    }
    if (this.#db.isOpen) this.#db.close();
  }

  #writeClient(verb: 'INSERT' | 'INSERT OR REPLACE', client: ClientRecord): void {
    const { client_id, kind, client_name, secret_hash, resource_server, blocked, created_at, ...metadata } =
      client;
    this.#sql(
      `${verb} INTO clients (client_id, kind, client_name, metadata, secret_hash, resource_server, blocked, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      client_id,
      kind,
      client_name,
      JSON.stringify(metadata),
      secret_hash ?? null,
      resource_server ? 1 : 0,
      blocked ? 1 : 0,
      created_at,
    );
  }

  async createClient(client: ClientRecord): Promise<void> {
    this.#writeClient('INSERT', client);
  }

  async upsertClient(client: ClientRecord): Promise<void> {
    this.#writeClient('INSERT OR REPLACE', client);
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const row = this.#sql('SELECT * FROM clients WHERE client_id = ?').get(clientId) as Row | undefined;
    return row && toClient(row);
  }

  async listClients(): Promise<ClientRecord[]> {
    return (this.#sql('SELECT * FROM clients ORDER BY created_at, client_id').all() as Row[]).map(toClient);
  }

  async countClients(kind: ClientKind): Promise<number> {
    return Number((this.#sql('SELECT count(*) AS n FROM clients WHERE kind = ?').get(kind) as Row).n);
  }

  async deleteClient(clientId: string): Promise<boolean> {
    return this.#sql('DELETE FROM clients WHERE client_id = ?').run(clientId).changes > 0;
  }

  async setClientBlocked(clientId: string, blocked: boolean): Promise<boolean> {
    return (
      this.#sql('UPDATE clients SET blocked = ? WHERE client_id = ?').run(blocked ? 1 : 0, clientId).changes >
      0
    );
  }

  async clientsLastUsed(): Promise<Map<string, number>> {
    const rows = this.#sql(
      'SELECT client_id, max(last_used_at) AS at FROM grants GROUP BY client_id',
    ).all() as Row[];
    return new Map(rows.map((row) => [row.client_id as string, Number(row.at)]));
  }

  async blockHost(host: BlockedHostRecord): Promise<void> {
    this.#sql(
      'INSERT INTO blocked_hosts (host, blocked_at, blocked_by) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(host.host, host.blocked_at, host.blocked_by ?? null);
  }

  async unblockHost(host: string): Promise<boolean> {
    return this.#sql('DELETE FROM blocked_hosts WHERE host = ?').run(host).changes > 0;
  }

  async isHostBlocked(host: string): Promise<boolean> {
    return this.#sql('SELECT 1 FROM blocked_hosts WHERE host = ?').get(host) !== undefined;
  }

  async listBlockedHosts(): Promise<BlockedHostRecord[]> {
    return (this.#sql('SELECT * FROM blocked_hosts ORDER BY host').all() as Row[]).map(toBlockedHost);
  }

  async createUser(user: UserRecord): Promise<void> {
    this.#sql(
      'INSERT INTO users (id, username, password_hash, disabled, admin, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      user.id,
      user.username,
      user.password_hash,
      user.disabled ? 1 : 0,
      user.admin ? 1 : 0,
      user.created_at,
    );
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const row = this.#sql('SELECT * FROM users WHERE id = ?').get(id) as Row | undefined;
    return row && toUser(row);
  }

  async getUserByName(username: string): Promise<UserRecord | undefined> {
    const row = this.#sql('SELECT * FROM users WHERE username = ?').get(username) as Row | undefined;
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (this.#sql('SELECT * FROM users ORDER BY username').all() as Row[]).map(toUser);
  }

  async setUserDisabled(id: string, disabled: boolean): Promise<boolean> {
    return this.#sql('UPDATE users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, id).changes > 0;
  }

  async setUserAdmin(id: string, admin: boolean): Promise<boolean> {
    return this.#sql('UPDATE users SET admin = ? WHERE id = ?').run(admin ? 1 : 0, id).changes > 0;
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.#transaction(() => {
      // A removed user's identities go with it: the next sign-in with one provisions afresh.
      this.#sql('DELETE FROM identities WHERE user_id = ?').run(id);
      return this.#sql('DELETE FROM users WHERE id = ?').run(id).changes > 0;
    });
  }

  async createUserWithIdentity(user: UserRecord, identity: IdentityRecord): Promise<boolean> {
    return this.#transaction(() => {
      if (!this.#insertIdentity(identity)) return false;
      this.#sql(
        'INSERT INTO users (id, username, password_hash, disabled, admin, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(
        user.id,
        user.username,
        user.password_hash,
        user.disabled ? 1 : 0,
        user.admin ? 1 : 0,
        user.created_at,
      );
      return true;
    });
  }

  #insertIdentity(identity: IdentityRecord): boolean {
    return (
      this.#sql(
        `INSERT INTO identities (provider, subject, user_id, email, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (provider, subject) DO NOTHING`,
      ).run(
        identity.provider,
        identity.subject,
        identity.user_id,
        identity.email ?? null,
        identity.created_at,
      ).changes > 0
    );
  }

  async getIdentity(provider: string, subject: string): Promise<IdentityRecord | undefined> {
    const row = this.#sql('SELECT * FROM identities WHERE provider = ? AND subject = ?').get(
      provider,
      subject,
    ) as Row | undefined;
    return row && toIdentity(row);
  }

  async listIdentities(userId?: string): Promise<IdentityRecord[]> {
    const rows = (
      userId === undefined
        ? this.#sql('SELECT * FROM identities ORDER BY provider, subject').all()
        : this.#sql('SELECT * FROM identities WHERE user_id = ? ORDER BY provider, subject').all(userId)
    ) as Row[];
    return rows.map(toIdentity);
  }

  async linkIdentity(identity: IdentityRecord): Promise<boolean> {
    return this.#insertIdentity(identity);
  }

  async unlinkIdentity(provider: string, subject: string): Promise<boolean> {
    return (
      this.#sql('DELETE FROM identities WHERE provider = ? AND subject = ?').run(provider, subject).changes >
      0
    );
  }

  async saveCode(code: AuthorizationCodeRecord): Promise<void> {
    this.#sql(
      `INSERT INTO authorization_codes
       (code_hash, client_id, user_id, redirect_uri, code_challenge, resource, scope, expires_at, offline_declined)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      code.code_hash,
      code.client_id,
      code.user_id,
      code.redirect_uri,
      code.code_challenge,
      code.resource,
      code.scope,
      code.expires_at,
      code.offline_declined ? 1 : 0,
    );
  }

  async redeemCode(codeHash: string, grant: NewGrantTimes, now: number): Promise<CodeRedemption> {
    return this.#transaction((): CodeRedemption => {
      // A conditional UPDATE inside a write transaction: exactly one caller sees the row, and only
      // while the code's user exists and is enabled.
      const won = this.#sql(
        `UPDATE authorization_codes SET consumed_at = ?, grant_id = ?
         WHERE code_hash = ? AND consumed_at IS NULL
           AND EXISTS (SELECT 1 FROM users WHERE users.id = authorization_codes.user_id AND users.disabled = 0)
         RETURNING *`,
      ).get(now, grant.id, codeHash) as Row | undefined;
      if (won) {
        const code = toCode(won);
        const { client_id, user_id: subject, resource, scope } = code;
        this.#insertGrant({ ...grant, client_id, subject, resource, scope });
        return { status: 'redeemed', code };
      }
      const row = this.#sql('SELECT * FROM authorization_codes WHERE code_hash = ?').get(codeHash) as
        | Row
        | undefined;
      if (!row) return { status: 'not_found' };
      // Unused, yet not taken above: its user is disabled or gone.
      if (row.consumed_at === null) return { status: 'user_inactive' };
      return { status: 'replayed', code: toCode(row) };
    });
  }

  async createGrant(grant: GrantRecord): Promise<void> {
    this.#insertGrant(grant);
  }

  #insertGrant(grant: GrantRecord): void {
    this.#sql(
      `INSERT INTO grants (id, client_id, subject, resource, scope, created_at, last_used_at, expires_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      grant.id,
      grant.client_id,
      grant.subject,
      grant.resource,
      grant.scope,
      grant.created_at,
      grant.last_used_at,
      grant.expires_at,
      grant.revoked_at ?? null,
    );
  }

  async getGrant(id: string): Promise<GrantRecord | undefined> {
    const row = this.#sql('SELECT * FROM grants WHERE id = ?').get(id) as Row | undefined;
    return row && toGrant(row);
  }

  async listGrants(filter: GrantFilter): Promise<GrantRecord[]> {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (filter.subject !== undefined) {
      where.push('subject = ?');
      args.push(filter.subject);
    }
    if (filter.client_id !== undefined) {
      where.push('client_id = ?');
      args.push(filter.client_id);
    }
    if (!filter.include_revoked) where.push('revoked_at IS NULL');
    const sql = `SELECT * FROM grants ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    return (this.#db.prepare(sql).all(...args) as Row[]).map(toGrant);
  }

  async revokeGrant(id: string, now: number, revocationExpiresAt: number): Promise<boolean> {
    return this.#transaction(() => {
      const changed = this.#sql('UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(
        now,
        id,
      );
      if (changed.changes === 0) return false;
      this.#sql('INSERT INTO revocations (grant_id, expires_at) VALUES (?, ?)').run(id, revocationExpiresAt);
      return true;
    });
  }

  async narrowGrant(
    id: string,
    scope: string,
    _now: number,
    revocationExpiresAt: number,
  ): Promise<string | undefined> {
    // Read and write inside one write transaction: concurrent narrowings apply one after the
    // other, each to what the previous one left, so together they never widen the grant.
    return this.#transaction(() => {
      const row = this.#sql('SELECT scope FROM grants WHERE id = ? AND revoked_at IS NULL').get(id) as
        | Row
        | undefined;
      if (!row) return undefined;
      const narrowed = narrowedGrantScope(row.scope as string, scope);
      if (narrowed === row.scope) return narrowed;
      this.#sql('UPDATE grants SET scope = ? WHERE id = ?').run(narrowed, id);
      this.#sql('INSERT INTO revocations (grant_id, scope, expires_at) VALUES (?, ?, ?)').run(
        id,
        narrowed,
        revocationExpiresAt,
      );
      return narrowed;
    });
  }

  async saveRefreshToken(token: RefreshTokenRecord): Promise<void> {
    this.#insertRefreshToken(token);
  }

  #insertRefreshToken(token: RefreshTokenRecord): void {
    this.#sql(
      `INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(token.token_hash, token.grant_id, token.client_id, token.scope, token.created_at, token.expires_at);
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = this.#sql('SELECT * FROM refresh_tokens WHERE token_hash = ?').get(tokenHash) as
      | Row
      | undefined;
    return row && toRefreshToken(row);
  }

  /**
   * The lookups asked for in one turn of the event loop are read together, in one read
   * transaction (one statement), at the next turn: a read transaction's start and end (WAL index
   * locks and checks) are paid once per turn instead of once per lookup.
   */
  getRefreshTokenWithGrant(tokenHash: string): Promise<RefreshTokenWithGrant | undefined> {
    return this.#lookup(tokenHash);
  }

  readonly #lookup = turnBatch((hashes: string[]) => {
    const rows =
      hashes.length === 1
        ? [
            this.#sql(
              `SELECT ${REFRESH_TOKEN_WITH_GRANT_COLUMNS} FROM refresh_tokens
               LEFT JOIN grants ON grants.id = refresh_tokens.grant_id WHERE token_hash = ?`,
            ).get(hashes[0] as string) as Row | undefined,
          ]
        : (this.#sql(
            `SELECT ${REFRESH_TOKEN_WITH_GRANT_COLUMNS} FROM refresh_tokens
             LEFT JOIN grants ON grants.id = refresh_tokens.grant_id
             WHERE token_hash IN (SELECT value FROM json_each(?))`,
          ).all(JSON.stringify(hashes)) as Row[]);
    const found = new Map<string, Row>();
    for (const row of rows) if (row) found.set(row.token_hash as string, row);
    return hashes.map((hash) => {
      const row = found.get(hash);
      return row && toRefreshTokenWithGrant(row);
    });
  });

  /**
   * Group commit: rotations requested while the event loop was busy are applied together, in
   * order, in one write transaction at the next turn of the loop, and each caller's promise
   * settles only after that COMMIT. Each rotation keeps its own compare-and-swap (two rotations
   * of one token in a batch: the first wins, the second sees it rotated), and the commit, the
   * costly part (WAL frames, locks), is paid once per batch instead of once per rotation.
   */
  rotateRefreshToken(
    tokenHash: string,
    successor: RefreshTokenRecord,
    successorResponse: string,
    now: number,
  ): Promise<RefreshTokenRotation> {
    return this.#rotation({ tokenHash, successor, successorResponse, now });
  }

  readonly #rotation = turnBatch(
    (batch: PendingRotation[]): Array<RefreshTokenRotation | Promise<RefreshTokenRotation>> => {
      if (!this.#db.isOpen) throw new Error('The store is closed.');
      try {
        return this.#transaction(() => batch.map((r) => this.#rotate(r)));
      } catch (err) {
        if (batch.length === 1) throw err;
        // Something failed and the whole batch rolled back: each rotation again on its own, so a
        // failure is reported to its own caller only.
        return batch.map((r) => {
          try {
            return this.#transaction(() => this.#rotate(r));
          } catch (e) {
            return Promise.reject(e);
          }
        });
      }
    },
  );

  /** One compare-and-swap rotation, inside the caller's write transaction. */
  #rotate({ tokenHash, successor, successorResponse, now }: PendingRotation): RefreshTokenRotation {
    const won = this.#sql(
      `UPDATE refresh_tokens SET rotated_at = ?, successor_hash = ?, successor_response = ?
       WHERE token_hash = ? AND rotated_at IS NULL
         AND EXISTS (SELECT 1 FROM grants JOIN users ON users.id = grants.subject
                     WHERE grants.id = refresh_tokens.grant_id AND users.disabled = 0)`,
    ).run(now, successor.token_hash, successorResponse, tokenHash);
    if (won.changes === 1) {
      this.#insertRefreshToken(successor);
      this.#sql('UPDATE grants SET last_used_at = ? WHERE id = ?').run(now, successor.grant_id);
      return { status: 'rotated' };
    }
    return lostRotation(
      this.#sql('SELECT * FROM refresh_tokens WHERE token_hash = ?').get(tokenHash) as Row | undefined,
    );
  }

  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    this.#sql('INSERT INTO revocations (jti, expires_at) VALUES (?, ?)').run(jti, expiresAt);
  }

  async listRevocations(after: number, now: number): Promise<RevocationRecord[]> {
    const rows = this.#sql('SELECT * FROM revocations WHERE seq > ? AND expires_at > ? ORDER BY seq').all(
      after,
      now,
    ) as Row[];
    return rows.map(toRevocation);
  }

  async isRevoked(jti: string, grantId: string | undefined): Promise<boolean> {
    const row = this.#sql(
      'SELECT 1 FROM revocations WHERE (jti = ? OR grant_id = ?) AND scope IS NULL LIMIT 1',
    ).get(jti, grantId ?? null);
    return row !== undefined;
  }

  async saveSigningKey(key: SigningKeyRecord): Promise<void> {
    this.#insertSigningKey(key);
  }

  #insertSigningKey(key: SigningKeyRecord): void {
    this.#sql(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_encrypted, created_at, active_from, retired_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      key.kid,
      key.alg,
      JSON.stringify(key.public_jwk),
      key.private_jwk_encrypted,
      key.created_at,
      key.active_from,
      key.retired_at ?? null,
      key.expires_at ?? null,
    );
  }

  async saveSigningKeyIfNoneSigns(key: SigningKeyRecord, now: number): Promise<boolean> {
    // BEGIN IMMEDIATE takes the write lock first, so processes sharing the file check in turn.
    return this.#transaction(() => {
      const signing = this.#sql(
        'SELECT 1 FROM signing_keys WHERE active_from <= ? AND (retired_at IS NULL OR retired_at > ?) LIMIT 1',
      ).get(now, now);
      if (signing) return false;
      this.#insertSigningKey(key);
      return true;
    });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (this.#sql('SELECT * FROM signing_keys ORDER BY active_from, kid').all() as Row[]).map(toKey);
  }

  async updateSigningKey(
    kid: string,
    changes: Pick<SigningKeyRecord, 'retired_at' | 'expires_at'>,
  ): Promise<void> {
    this.#sql('UPDATE signing_keys SET retired_at = ?, expires_at = ? WHERE kid = ?').run(
      changes.retired_at ?? null,
      changes.expires_at ?? null,
      kid,
    );
  }

  async getConsent(userId: string, clientId: string, resource: string): Promise<ConsentRecord | undefined> {
    const row = this.#sql('SELECT * FROM consents WHERE user_id = ? AND client_id = ? AND resource = ?').get(
      userId,
      clientId,
      resource,
    ) as Row | undefined;
    return row && toConsent(row);
  }

  async saveConsent(consent: ConsentRecord): Promise<void> {
    this.#sql(
      `INSERT OR REPLACE INTO consents (user_id, client_id, resource, scope, granted_at) VALUES (?, ?, ?, ?, ?)`,
    ).run(consent.user_id, consent.client_id, consent.resource, consent.scope, consent.granted_at);
  }

  async createSession(session: SessionRecord): Promise<void> {
    this.#sql('INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
      session.id_hash,
      session.user_id,
      session.created_at,
      session.expires_at,
    );
  }

  async getSession(idHash: string, now: number): Promise<SessionRecord | undefined> {
    const row = this.#sql('SELECT * FROM sessions WHERE id_hash = ? AND expires_at > ?').get(idHash, now) as
      | Row
      | undefined;
    return row && toSession(row);
  }

  async deleteSession(idHash: string): Promise<void> {
    this.#sql('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
  }

  async deleteUserSessions(userId: string): Promise<void> {
    this.#sql('DELETE FROM sessions WHERE user_id = ?').run(userId);
  }

  async saveInteraction(interaction: InteractionRecord): Promise<void> {
    this.#sql('INSERT INTO interactions (id, request, expires_at) VALUES (?, ?, ?)').run(
      interaction.id,
      interaction.request,
      interaction.expires_at,
    );
  }

  async getInteraction(id: string, now: number): Promise<InteractionRecord | undefined> {
    const row = this.#sql('SELECT * FROM interactions WHERE id = ? AND expires_at > ?').get(id, now) as
      | Row
      | undefined;
    return row && toInteraction(row);
  }

  async takeInteraction(id: string, now: number): Promise<InteractionRecord | undefined> {
    const row = this.#sql('DELETE FROM interactions WHERE id = ? AND expires_at > ? RETURNING *').get(
      id,
      now,
    ) as Row | undefined;
    return row && toInteraction(row);
  }

  async saveConnection(c: ConnectionRecord): Promise<void> {
    this.#sql(
      `INSERT INTO connections (user_id, provider, access_token_encrypted, refresh_token_encrypted, expires_at,
       scope, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)
       ON CONFLICT (user_id, provider) DO UPDATE SET access_token_encrypted = excluded.access_token_encrypted,
       refresh_token_encrypted = excluded.refresh_token_encrypted, expires_at = excluded.expires_at,
       scope = excluded.scope, state = 'active', updated_at = excluded.updated_at,
       lease_until = NULL, lease_owner = NULL`,
    ).run(
      c.user_id,
      c.provider,
      c.access_token_encrypted,
      c.refresh_token_encrypted ?? null,
      c.expires_at ?? null,
      c.scope ?? null,
      c.created_at,
      c.updated_at,
    );
  }

  async getConnection(userId: string, provider: string): Promise<ConnectionRecord | undefined> {
    const row = this.#sql('SELECT * FROM connections WHERE user_id = ? AND provider = ?').get(
      userId,
      provider,
    );
    return row ? toConnection(row as Row) : undefined;
  }

  async listConnections(userId?: string): Promise<ConnectionRecord[]> {
    const rows =
      userId === undefined
        ? this.#sql('SELECT * FROM connections ORDER BY user_id, provider').all()
        : this.#sql('SELECT * FROM connections WHERE user_id = ? ORDER BY provider').all(userId);
    return (rows as Row[]).map(toConnection);
  }

  async deleteConnection(userId: string, provider: string): Promise<boolean> {
    return (
      this.#sql('DELETE FROM connections WHERE user_id = ? AND provider = ?').run(userId, provider).changes >
      0
    );
  }

  async takeConnectionLease(
    userId: string,
    provider: string,
    owner: string,
    now: number,
    until: number,
  ): Promise<boolean> {
    return (
      this.#sql(
        `UPDATE connections SET lease_owner = ?, lease_until = ?
         WHERE user_id = ? AND provider = ? AND (lease_until IS NULL OR lease_until <= ?)`,
      ).run(owner, until, userId, provider, now).changes > 0
    );
  }

  async finishConnectionRefresh(
    userId: string,
    provider: string,
    owner: string,
    outcome: ConnectionRefreshOutcome,
    now: number,
  ): Promise<boolean> {
    const where = 'WHERE user_id = ? AND provider = ? AND lease_owner = ?';
    if ('broken' in outcome) {
      return (
        this.#sql(
          `UPDATE connections SET state = 'broken', updated_at = ?, lease_owner = NULL, lease_until = NULL ${where}`,
        ).run(now, userId, provider, owner).changes > 0
      );
    }
    return (
      this.#sql(
        `UPDATE connections SET access_token_encrypted = ?,
         refresh_token_encrypted = coalesce(?, refresh_token_encrypted), expires_at = ?,
         scope = coalesce(?, scope), updated_at = ?, lease_owner = NULL, lease_until = NULL ${where}`,
      ).run(
        outcome.access_token_encrypted,
        outcome.refresh_token_encrypted ?? null,
        outcome.expires_at ?? null,
        outcome.scope ?? null,
        now,
        userId,
        provider,
        owner,
      ).changes > 0
    );
  }

  async releaseConnectionLease(userId: string, provider: string, owner: string): Promise<void> {
    this.#sql(
      'UPDATE connections SET lease_owner = NULL, lease_until = NULL WHERE user_id = ? AND provider = ? AND lease_owner = ?',
    ).run(userId, provider, owner);
  }

  async hitRateLimit(key: string, windowSeconds: number, now: number): Promise<number> {
    const windowStart = now - (now % windowSeconds);
    const row = this.#sql(
      `INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
       ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING count`,
    ).get(key, windowStart) as Row;
    return Number(row.count);
  }

  async refundRateLimit(key: string, windowSeconds: number, now: number): Promise<void> {
    this.#sql(
      'UPDATE rate_limits SET count = count - 1 WHERE key = ? AND window_start = ? AND count > 0',
    ).run(key, now - (now % windowSeconds));
  }

  async countRateLimit(key: string, windowSeconds: number, now: number): Promise<number> {
    const row = this.#sql('SELECT count FROM rate_limits WHERE key = ? AND window_start = ?').get(
      key,
      now - (now % windowSeconds),
    ) as Row | undefined;
    return row ? Number(row.count) : 0;
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    this.#insertAudit(event);
  }

  #insertAudit(event: AuditEvent): void {
    this.#sql(
      'INSERT INTO audit_events (at, type, actor, client_id, user_id, grant_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(
      event.at,
      event.type,
      event.actor ?? null,
      event.client_id ?? null,
      event.user_id ?? null,
      event.grant_id ?? null,
      event.detail ? JSON.stringify(event.detail) : null,
    );
  }

  async appendAuditEvents(events: readonly AuditEvent[]): Promise<void> {
    this.#transaction(() => {
      for (const event of events) this.#insertAudit(event);
    });
  }

  async listAudit(options: { after?: number; limit?: number }): Promise<AuditEvent[]> {
    const rows = this.#sql('SELECT * FROM audit_events WHERE id > ? ORDER BY id LIMIT ?').all(
      options.after ?? 0,
      options.limit ?? 100,
    ) as Row[];
    return rows.map(toAudit);
  }

  async queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    const { sql, params } = auditQuerySql(query, SQLITE_AUDIT);
    return (this.#sql(sql).all(...(params as (string | number)[])) as Row[]).map(toAudit);
  }

  async countAuditEvents(query: AuditCountQuery): Promise<AuditCount[]> {
    if (!query.types.length) return [];
    // The period's rows are found through the audit_events_type_at index (type, at); only they are read.
    const rows = this.#sql(
      // node:sqlite binds numbers as REAL: the cast makes the division an integer one.
      `SELECT type, CAST((at - ?) / ? AS INTEGER) AS bucket,
        json_extract(detail, '$.server') AS server, json_extract(detail, '$.name') AS name,
        json_extract(detail, '$.outcome') AS outcome, COUNT(*) AS count
      FROM audit_events
      WHERE type IN (${query.types.map(() => '?').join(', ')}) AND at >= ? AND at < ?
      GROUP BY 1, 2, 3, 4, 5`,
    ).all(query.from, query.bucketSeconds, ...query.types, query.from, query.to) as Row[];
    return rows.map((row) => toAuditCount(row, query));
  }

  async prune(now: number): Promise<void> {
    this.#transaction(() => {
      this.#sql('DELETE FROM authorization_codes WHERE expires_at <= ?').run(now - 3600);
      this.#sql('DELETE FROM sessions WHERE expires_at <= ?').run(now);
      this.#sql('DELETE FROM interactions WHERE expires_at <= ?').run(now);
      this.#sql('DELETE FROM revocations WHERE expires_at <= ?').run(now);
      this.#sql('DELETE FROM rate_limits WHERE window_start <= ?').run(now - 86400);
      this.#sql('DELETE FROM refresh_tokens WHERE expires_at <= ?').run(now);
    });
  }
}
