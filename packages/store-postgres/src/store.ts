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
} from '@gatehouse/server';
import { auditQuerySql, POSTGRES_AUDIT } from '@gatehouse/server/store/audit-query';
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
} from '@gatehouse/server/store/rows';
import { turnBatch } from '@gatehouse/server/store/turn-batch';
import { Pool, type PoolClient, type PoolConfig } from 'pg';
import { migrate } from './migrate.ts';
import { listenForRevocations, notifyRevocation, type RevocationSubscriptionOptions } from './notify.ts';
import { type PostgresStoreOptions, resolvePoolConfig } from './options.ts';

/** A rotation waiting for its batch's statement. */
interface PendingRotation {
  tokenHash: string;
  successor: RefreshTokenRecord;
  successorResponse: string;
  now: number;
}

/** Anything that runs a query: the pool, or one client inside a transaction. */
type Queryable = Pick<Pool, 'query'> | PoolClient;

/**
 * The store for several authorization server instances sharing one PostgreSQL database. Passes
 * the same contract suite as the SQLite store. Open it with {@link openPostgresStore}, which
 * migrates the schema first.
 */
export class PostgresStore implements Store {
  readonly #pool: Pool;
  readonly #poolConfig: PoolConfig;
  readonly #subscriptions = new Set<() => Promise<void>>();
  #closed = false;

  /** Use {@link openPostgresStore}; this constructor neither connects nor migrates. */
  constructor(poolConfig: PoolConfig) {
    this.#poolConfig = poolConfig;
    this.#pool = new Pool(poolConfig);
    // An idle connection that dies (server restart, network) must not crash the process; the
    // pool replaces it on the next query, and that query reports any lasting failure.
    this.#pool.on('error', () => {});
  }

  async #rows(sql: string, params: unknown[] = [], db: Queryable = this.#pool): Promise<Row[]> {
    return (await db.query(sql, params)).rows as Row[];
  }

  /**
   * A query of the token hot path as a named prepared statement: each pooled connection parses and
   * plans it once, not on every request (pg's plain queries are parsed and planned each time).
   */
  async #prepared(name: string, text: string, values: unknown[]): Promise<Row[]> {
    return (await this.#pool.query({ name, text, values })).rows as Row[];
  }

  async #count(sql: string, params: unknown[], db: Queryable = this.#pool): Promise<number> {
    return (await db.query(sql, params)).rowCount ?? 0;
  }

  async #transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    } finally {
      client.release();
    }
  }

  /** Runs the migrations; {@link openPostgresStore} calls it. */
  async migrate(schema: string | undefined): Promise<number> {
    return migrate(this.#pool, schema);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((stop) => stop()));
    await this.#pool.end();
  }

  /**
   * Calls `onChange` soon after any instance sharing this database and schema records a
   * revocation (LISTEN/NOTIFY on a dedicated connection), so an authorization server can sync at
   * once instead of waiting for its next poll. After a lost connection it reconnects and calls
   * `onChange` once, since notifications sent meanwhile are lost. Resolves once listening; the
   * returned function stops listening.
   *
   * @example
   * const stop = await store.subscribeRevocations(() => void revocations.sync());
   * @see https://www.postgresql.org/docs/current/sql-notify.html
   */
  async subscribeRevocations(
    onChange: () => void,
    options: RevocationSubscriptionOptions = {},
  ): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error('the PostgreSQL store is closed');
    const stop = await listenForRevocations(this.#poolConfig, onChange, options);
    const unsubscribe = async () => {
      this.#subscriptions.delete(unsubscribe);
      await stop();
    };
    this.#subscriptions.add(unsubscribe);
    return unsubscribe;
  }

  async #writeClient(client: ClientRecord, upsert: boolean): Promise<void> {
    const { client_id, kind, client_name, secret_hash, resource_server, blocked, created_at, ...metadata } =
      client;
    await this.#pool.query(
      `INSERT INTO clients (client_id, kind, client_name, metadata, secret_hash, resource_server, blocked, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ${
         upsert
           ? `ON CONFLICT (client_id) DO UPDATE SET kind = excluded.kind, client_name = excluded.client_name,
              metadata = excluded.metadata, secret_hash = excluded.secret_hash,
              resource_server = excluded.resource_server, blocked = excluded.blocked,
              created_at = excluded.created_at`
           : ''
       }`,
      [
        client_id,
        kind,
        client_name,
        JSON.stringify(metadata),
        secret_hash ?? null,
        resource_server === true,
        blocked === true,
        created_at,
      ],
    );
  }

  async createClient(client: ClientRecord): Promise<void> {
    await this.#writeClient(client, false);
  }

  async upsertClient(client: ClientRecord): Promise<void> {
    await this.#writeClient(client, true);
  }

  async getClient(clientId: string): Promise<ClientRecord | undefined> {
    const [row] = await this.#rows('SELECT * FROM clients WHERE client_id = $1', [clientId]);
    return row && toClient(row);
  }

  async listClients(): Promise<ClientRecord[]> {
    return (await this.#rows('SELECT * FROM clients ORDER BY created_at, client_id')).map(toClient);
  }

  async countClients(kind: ClientKind): Promise<number> {
    const [row] = await this.#rows('SELECT count(*) AS n FROM clients WHERE kind = $1', [kind]);
    return Number(row?.n ?? 0);
  }

  async deleteClient(clientId: string): Promise<boolean> {
    return (await this.#count('DELETE FROM clients WHERE client_id = $1', [clientId])) > 0;
  }

  async setClientBlocked(clientId: string, blocked: boolean): Promise<boolean> {
    return (
      (await this.#count('UPDATE clients SET blocked = $1 WHERE client_id = $2', [blocked, clientId])) > 0
    );
  }

  async clientsLastUsed(): Promise<Map<string, number>> {
    const rows = await this.#rows('SELECT client_id, max(last_used_at) AS at FROM grants GROUP BY client_id');
    return new Map(rows.map((row) => [row.client_id as string, Number(row.at)]));
  }

  async blockHost(host: BlockedHostRecord): Promise<void> {
    await this.#pool.query(
      'INSERT INTO blocked_hosts (host, blocked_at, blocked_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [host.host, host.blocked_at, host.blocked_by ?? null],
    );
  }

  async unblockHost(host: string): Promise<boolean> {
    return (await this.#count('DELETE FROM blocked_hosts WHERE host = $1', [host])) > 0;
  }

  async isHostBlocked(host: string): Promise<boolean> {
    return (await this.#rows('SELECT 1 FROM blocked_hosts WHERE host = $1', [host])).length > 0;
  }

  async listBlockedHosts(): Promise<BlockedHostRecord[]> {
    return (await this.#rows('SELECT * FROM blocked_hosts ORDER BY host')).map(toBlockedHost);
  }

  async createUser(user: UserRecord): Promise<void> {
    await this.#pool.query(
      'INSERT INTO users (id, username, password_hash, disabled, admin, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [user.id, user.username, user.password_hash, user.disabled, user.admin === true, user.created_at],
    );
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const [row] = await this.#rows('SELECT * FROM users WHERE id = $1', [id]);
    return row && toUser(row);
  }

  async getUserByName(username: string): Promise<UserRecord | undefined> {
    const [row] = await this.#rows('SELECT * FROM users WHERE username = $1', [username]);
    return row && toUser(row);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.#rows('SELECT * FROM users ORDER BY username')).map(toUser);
  }

  async setUserDisabled(id: string, disabled: boolean): Promise<boolean> {
    return (await this.#count('UPDATE users SET disabled = $1 WHERE id = $2', [disabled, id])) > 0;
  }

  async setUserAdmin(id: string, admin: boolean): Promise<boolean> {
    return (await this.#count('UPDATE users SET admin = $1 WHERE id = $2', [admin, id])) > 0;
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.#transaction(async (tx) => {
      // A removed user's identities go with it: the next sign-in with one provisions afresh.
      await this.#count('DELETE FROM identities WHERE user_id = $1', [id], tx);
      return (await this.#count('DELETE FROM users WHERE id = $1', [id], tx)) > 0;
    });
  }

  async createUserWithIdentity(user: UserRecord, identity: IdentityRecord): Promise<boolean> {
    return this.#transaction(async (tx) => {
      if (!(await this.#insertIdentity(identity, tx))) return false;
      await this.#count(
        'INSERT INTO users (id, username, password_hash, disabled, admin, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [user.id, user.username, user.password_hash, user.disabled, user.admin ?? false, user.created_at],
        tx,
      );
      return true;
    });
  }

  async #insertIdentity(identity: IdentityRecord, db: Queryable = this.#pool): Promise<boolean> {
    const inserted = await this.#count(
      `INSERT INTO identities (provider, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (provider, subject) DO NOTHING`,
      [identity.provider, identity.subject, identity.user_id, identity.email ?? null, identity.created_at],
      db,
    );
    return inserted > 0;
  }

  async getIdentity(provider: string, subject: string): Promise<IdentityRecord | undefined> {
    const [row] = await this.#rows('SELECT * FROM identities WHERE provider = $1 AND subject = $2', [
      provider,
      subject,
    ]);
    return row && toIdentity(row);
  }

  async listIdentities(userId?: string): Promise<IdentityRecord[]> {
    const rows =
      userId === undefined
        ? await this.#rows('SELECT * FROM identities ORDER BY provider, subject')
        : await this.#rows('SELECT * FROM identities WHERE user_id = $1 ORDER BY provider, subject', [
            userId,
          ]);
    return rows.map(toIdentity);
  }

  async linkIdentity(identity: IdentityRecord): Promise<boolean> {
    return this.#insertIdentity(identity);
  }

  async unlinkIdentity(provider: string, subject: string): Promise<boolean> {
    return (
      (await this.#count('DELETE FROM identities WHERE provider = $1 AND subject = $2', [
        provider,
        subject,
      ])) > 0
    );
  }

  async saveCode(code: AuthorizationCodeRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO authorization_codes
       (code_hash, client_id, user_id, redirect_uri, code_challenge, resource, scope, expires_at, offline_declined)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        code.code_hash,
        code.client_id,
        code.user_id,
        code.redirect_uri,
        code.code_challenge,
        code.resource,
        code.scope,
        code.expires_at,
        code.offline_declined === true,
      ],
    );
  }

  async redeemCode(codeHash: string, grant: NewGrantTimes, now: number): Promise<CodeRedemption> {
    // One statement, so one implicit transaction: the conditional UPDATE takes the row lock, a
    // concurrent redeemer (on any instance) waits for it, then re-checks `consumed_at IS NULL`
    // against the committed row and matches nothing. The grant is inserted only by the winner.
    // The user must exist and be enabled; FOR SHARE holds their row until commit, so a concurrent
    // `users disable` either comes first (and this matches nothing) or waits, and then its
    // revocation of the user's grants sees the grant made here.
    const [won] = await this.#rows(
      `WITH won AS (
         UPDATE authorization_codes SET consumed_at = $1, grant_id = $2
         WHERE code_hash = $3 AND consumed_at IS NULL
           AND EXISTS (SELECT 1 FROM users WHERE users.id = authorization_codes.user_id AND NOT users.disabled
                       FOR SHARE)
         RETURNING *
       ), produced AS (
         INSERT INTO grants (id, client_id, subject, resource, scope, created_at, last_used_at, expires_at)
         SELECT $2, client_id, user_id, resource, scope, $4::bigint, $5::bigint, $6::bigint FROM won
       )
       SELECT * FROM won`,
      [now, grant.id, codeHash, grant.created_at, grant.last_used_at, grant.expires_at],
    );
    if (won) return { status: 'redeemed', code: toCode(won) };
    const [row] = await this.#rows('SELECT * FROM authorization_codes WHERE code_hash = $1', [codeHash]);
    if (!row) return { status: 'not_found' };
    // Unused, yet not taken above: its user is disabled or gone.
    if (row.consumed_at === null) return { status: 'user_inactive' };
    return { status: 'replayed', code: toCode(row) };
  }

  async createGrant(grant: GrantRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO grants (id, client_id, subject, resource, scope, created_at, last_used_at, expires_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        grant.id,
        grant.client_id,
        grant.subject,
        grant.resource,
        grant.scope,
        grant.created_at,
        grant.last_used_at,
        grant.expires_at,
        grant.revoked_at ?? null,
      ],
    );
  }

  async getGrant(id: string): Promise<GrantRecord | undefined> {
    const [row] = await this.#rows('SELECT * FROM grants WHERE id = $1', [id]);
    return row && toGrant(row);
  }

  async listGrants(filter: GrantFilter): Promise<GrantRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.subject !== undefined) {
      params.push(filter.subject);
      where.push(`subject = $${params.length}`);
    }
    if (filter.client_id !== undefined) {
      params.push(filter.client_id);
      where.push(`client_id = $${params.length}`);
    }
    if (!filter.include_revoked) where.push('revoked_at IS NULL');
    const sql = `SELECT * FROM grants ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    return (await this.#rows(sql, params)).map(toGrant);
  }

  async revokeGrant(id: string, now: number, revocationExpiresAt: number): Promise<boolean> {
    return this.#transaction(async (tx) => {
      const changed = await this.#count(
        'UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL',
        [now, id],
        tx,
      );
      if (changed === 0) return false;
      await this.#insertRevocation(tx, { grant_id: id, expires_at: revocationExpiresAt });
      return true;
    });
  }

  async narrowGrant(
    id: string,
    scope: string,
    _now: number,
    revocationExpiresAt: number,
  ): Promise<string | undefined> {
    // FOR UPDATE holds the grant's row until commit: concurrent narrowings (on any instance) apply
    // one after the other, each to what the previous one left, so together they never widen it.
    return this.#transaction(async (tx) => {
      const [row] = await this.#rows(
        'SELECT scope FROM grants WHERE id = $1 AND revoked_at IS NULL FOR UPDATE',
        [id],
        tx,
      );
      if (!row) return undefined;
      const narrowed = narrowedGrantScope(row.scope as string, scope);
      if (narrowed === row.scope) return narrowed;
      await tx.query('UPDATE grants SET scope = $1 WHERE id = $2', [narrowed, id]);
      await this.#insertRevocation(tx, { grant_id: id, scope: narrowed, expires_at: revocationExpiresAt });
      return narrowed;
    });
  }

  /**
   * Appends a revocation entry and notifies listeners, inside the caller's transaction.
   *
   * Readers resume the feed from the last `seq` they saw, so entries must become visible in `seq`
   * order. Identity values are handed out at insert time but become visible at commit, so two
   * concurrent writers could commit 7 before 6 and a reader that saw 7 would never see 6. The
   * table lock (EXCLUSIVE still lets readers through) serializes writers until commit; revocations
   * are rare, so the wait costs nothing that matters. NOTIFY is delivered at commit, after the row
   * is visible, and never if the transaction rolls back.
   */
  async #insertRevocation(tx: PoolClient, entry: Omit<RevocationRecord, 'seq'>): Promise<void> {
    await tx.query('LOCK TABLE revocations IN EXCLUSIVE MODE');
    await tx.query('INSERT INTO revocations (grant_id, jti, scope, expires_at) VALUES ($1, $2, $3, $4)', [
      entry.grant_id ?? null,
      entry.jti ?? null,
      entry.scope ?? null,
      entry.expires_at,
    ]);
    await notifyRevocation(tx);
  }

  async saveRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [token.token_hash, token.grant_id, token.client_id, token.scope, token.created_at, token.expires_at],
    );
  }

  async getRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const [row] = await this.#rows('SELECT * FROM refresh_tokens WHERE token_hash = $1', [tokenHash]);
    return row && toRefreshToken(row);
  }

  /**
   * The lookups asked for in one turn of the event loop go as one query (`= ANY`), so a busy token
   * endpoint pays one round trip per turn rather than one per request.
   */
  getRefreshTokenWithGrant(tokenHash: string): Promise<RefreshTokenWithGrant | undefined> {
    return this.#lookup(tokenHash);
  }

  readonly #lookup = turnBatch(async (hashes: string[]) => {
    const rows = await this.#prepared(
      'gatehouse_refresh_tokens_with_grants',
      `SELECT ${REFRESH_TOKEN_WITH_GRANT_COLUMNS} FROM refresh_tokens
       LEFT JOIN grants ON grants.id = refresh_tokens.grant_id WHERE token_hash = ANY($1::text[])`,
      [[...new Set(hashes)]],
    );
    const found = new Map(rows.map((row) => [row.token_hash as string, row]));
    return hashes.map((hash) => {
      const row = found.get(hash);
      // Each caller gets its own objects: callers may not share what they might change.
      return row && toRefreshTokenWithGrant(row);
    });
  });

  /**
   * Group commit: the rotations asked for in one turn of the event loop go to PostgreSQL as one
   * statement (one round trip, one transaction, one WAL flush), and each caller's promise settles
   * only after it has committed. Each rotation keeps its own compare-and-swap: a token is updated
   * only while `rotated_at IS NULL`, so whichever rotation of it commits first (in this batch, in
   * another batch or on another instance) is the only one whose successor is inserted.
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
    async (
      batch: PendingRotation[],
    ): Promise<Array<RefreshTokenRotation | Promise<RefreshTokenRotation>>> => {
      if (batch.length === 1) return [this.#rotateOne(batch[0] as PendingRotation)];
      try {
        return await this.#rotateBatch(batch);
      } catch {
        // A failed batch (a deadlock with another instance's batch, say) rolled back as a whole:
        // each rotation again on its own, so a failure reaches only its own caller.
        return batch.map((r) => this.#rotateOne(r));
      }
    },
  );

  /** One rotation, as one statement. */
  async #rotateOne({
    tokenHash,
    successor,
    successorResponse,
    now,
  }: PendingRotation): Promise<RefreshTokenRotation> {
    // Compare-and-swap in one statement, as in redeemCode: concurrent rotations of one token (from
    // any instance) queue on its row lock; after the winner commits the others re-check
    // `rotated_at IS NULL`, match nothing, and only the winner's successor is ever inserted.
    // The grant's user must exist and be enabled: two primary-key lookups in the same statement.
    const [won] = await this.#prepared(
      'gatehouse_rotate_refresh_token',
      `WITH won AS (
         UPDATE refresh_tokens SET rotated_at = $1, successor_hash = $2, successor_response = $3
         WHERE token_hash = $4 AND rotated_at IS NULL
           AND EXISTS (SELECT 1 FROM grants JOIN users ON users.id = grants.subject
                       WHERE grants.id = refresh_tokens.grant_id AND NOT users.disabled)
         RETURNING token_hash
       ), successor AS (
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, created_at, expires_at)
         SELECT $2, $5, $6, $7, $8::bigint, $9::bigint FROM won
       ), touched AS (
         UPDATE grants SET last_used_at = $1 WHERE id = $5 AND EXISTS (SELECT 1 FROM won)
       )
       SELECT token_hash FROM won`,
      [
        now,
        successor.token_hash,
        successorResponse,
        tokenHash,
        successor.grant_id,
        successor.client_id,
        successor.scope,
        successor.created_at,
        successor.expires_at,
      ],
    );
    if (won) return { status: 'rotated' };
    return (await this.#lostRotations([tokenHash])).get(tokenHash) ?? lostRotation(undefined);
  }

  /**
   * Several rotations in one statement. A token asked to rotate twice in the batch is updated once
   * (UPDATE … FROM takes one of its rows); RETURNING names the successor that won, and only
   * winners' successors are inserted. Tokens are taken in token_hash order, so two batches that
   * share tokens lock them in the same order.
   */
  async #rotateBatch(batch: PendingRotation[]): Promise<RefreshTokenRotation[]> {
    const column = <T>(pick: (r: PendingRotation) => T) => batch.map(pick);
    const won = await this.#prepared(
      'gatehouse_rotate_refresh_tokens',
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                              $7::bigint[], $8::bigint[], $9::bigint[])
           AS i(token_hash, successor_hash, successor_response, grant_id, client_id, scope,
                created_at, expires_at, now)
       ), target AS (
         SELECT refresh_tokens.token_hash FROM refresh_tokens
         WHERE token_hash IN (SELECT token_hash FROM input) AND rotated_at IS NULL
         ORDER BY token_hash FOR UPDATE
       ), won AS (
         UPDATE refresh_tokens SET rotated_at = i.now, successor_hash = i.successor_hash,
                                   successor_response = i.successor_response
         FROM input i
         WHERE refresh_tokens.token_hash = i.token_hash
           AND refresh_tokens.token_hash IN (SELECT token_hash FROM target)
           AND refresh_tokens.rotated_at IS NULL
           AND EXISTS (SELECT 1 FROM grants JOIN users ON users.id = grants.subject
                       WHERE grants.id = refresh_tokens.grant_id AND NOT users.disabled)
         RETURNING refresh_tokens.successor_hash
       ), winners AS (
         SELECT i.* FROM input i JOIN won ON won.successor_hash = i.successor_hash
       ), successor AS (
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, created_at, expires_at)
         SELECT successor_hash, grant_id, client_id, scope, created_at, expires_at FROM winners
       ), touched AS (
         UPDATE grants SET last_used_at = w.now
         FROM (SELECT grant_id, max(now) AS now FROM winners GROUP BY grant_id) w
         WHERE grants.id = w.grant_id
       )
       SELECT successor_hash FROM won`,
      [
        column((r) => r.tokenHash),
        column((r) => r.successor.token_hash),
        column((r) => r.successorResponse),
        column((r) => r.successor.grant_id),
        column((r) => r.successor.client_id),
        column((r) => r.successor.scope),
        column((r) => r.successor.created_at),
        column((r) => r.successor.expires_at),
        column((r) => r.now),
      ],
    );
    const winners = new Set(won.map((row) => row.successor_hash as string));
    const lost = batch.filter((r) => !winners.has(r.successor.token_hash)).map((r) => r.tokenHash);
    const outcomes = lost.length ? await this.#lostRotations(lost) : new Map<string, RefreshTokenRotation>();
    return batch.map((r) =>
      winners.has(r.successor.token_hash)
        ? { status: 'rotated' }
        : (outcomes.get(r.tokenHash) ?? lostRotation(undefined)),
    );
  }

  /** Why rotations of these tokens were not applied, read after they committed (or not). */
  async #lostRotations(tokenHashes: string[]): Promise<Map<string, RefreshTokenRotation>> {
    const rows = await this.#prepared(
      'gatehouse_lost_rotations',
      'SELECT * FROM refresh_tokens WHERE token_hash = ANY($1::text[])',
      [tokenHashes],
    );
    return new Map(rows.map((row) => [row.token_hash as string, lostRotation(row)]));
  }

  async revokeAccessToken(jti: string, expiresAt: number): Promise<void> {
    await this.#transaction((tx) => this.#insertRevocation(tx, { jti, expires_at: expiresAt }));
  }

  async listRevocations(after: number, now: number): Promise<RevocationRecord[]> {
    const rows = await this.#rows(
      'SELECT * FROM revocations WHERE seq > $1 AND expires_at > $2 ORDER BY seq',
      [after, now],
    );
    return rows.map(toRevocation);
  }

  async isRevoked(jti: string, grantId: string | undefined): Promise<boolean> {
    const rows = await this.#rows(
      'SELECT 1 FROM revocations WHERE (jti = $1 OR grant_id = $2) AND scope IS NULL LIMIT 1',
      [jti, grantId ?? null],
    );
    return rows.length > 0;
  }

  async saveSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.#insertSigningKey(this.#pool, key);
  }

  async saveSigningKeyIfNoneSigns(key: SigningKeyRecord, now: number): Promise<boolean> {
    // Under READ COMMITTED two instances would both see no key and both insert. EXCLUSIVE mode
    // queues writers of this table (readers pass) until commit, so the second instance to get the
    // lock sees the first one's key. The lock is per schema, like the table.
    return this.#transaction(async (tx) => {
      await tx.query('LOCK TABLE signing_keys IN EXCLUSIVE MODE');
      const signing = await this.#rows(
        'SELECT 1 FROM signing_keys WHERE active_from <= $1 AND (retired_at IS NULL OR retired_at > $1) LIMIT 1',
        [now],
        tx,
      );
      if (signing.length > 0) return false;
      await this.#insertSigningKey(tx, key);
      return true;
    });
  }

  async #insertSigningKey(db: Queryable, key: SigningKeyRecord): Promise<void> {
    await db.query(
      `INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_encrypted, created_at, active_from, retired_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        key.kid,
        key.alg,
        JSON.stringify(key.public_jwk),
        key.private_jwk_encrypted,
        key.created_at,
        key.active_from,
        key.retired_at ?? null,
        key.expires_at ?? null,
      ],
    );
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return (await this.#rows('SELECT * FROM signing_keys ORDER BY active_from, kid')).map(toKey);
  }

  async updateSigningKey(
    kid: string,
    changes: Pick<SigningKeyRecord, 'retired_at' | 'expires_at'>,
  ): Promise<void> {
    await this.#pool.query('UPDATE signing_keys SET retired_at = $1, expires_at = $2 WHERE kid = $3', [
      changes.retired_at ?? null,
      changes.expires_at ?? null,
      kid,
    ]);
  }

  async getConsent(userId: string, clientId: string, resource: string): Promise<ConsentRecord | undefined> {
    const [row] = await this.#rows(
      'SELECT * FROM consents WHERE user_id = $1 AND client_id = $2 AND resource = $3',
      [userId, clientId, resource],
    );
    return row && toConsent(row);
  }

  async saveConsent(consent: ConsentRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO consents (user_id, client_id, resource, scope, granted_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, client_id, resource) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at`,
      [consent.user_id, consent.client_id, consent.resource, consent.scope, consent.granted_at],
    );
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.#pool.query(
      'INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
      [session.id_hash, session.user_id, session.created_at, session.expires_at],
    );
  }

  async getSession(idHash: string, now: number): Promise<SessionRecord | undefined> {
    const [row] = await this.#rows('SELECT * FROM sessions WHERE id_hash = $1 AND expires_at > $2', [
      idHash,
      now,
    ]);
    return row && toSession(row);
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.#pool.query('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
  }

  async deleteUserSessions(userId: string): Promise<void> {
    await this.#pool.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  }

  async saveInteraction(interaction: InteractionRecord): Promise<void> {
    await this.#pool.query('INSERT INTO interactions (id, request, expires_at) VALUES ($1, $2, $3)', [
      interaction.id,
      interaction.request,
      interaction.expires_at,
    ]);
  }

  async getInteraction(id: string, now: number): Promise<InteractionRecord | undefined> {
    const [row] = await this.#rows('SELECT * FROM interactions WHERE id = $1 AND expires_at > $2', [id, now]);
    return row && toInteraction(row);
  }

  async takeInteraction(id: string, now: number): Promise<InteractionRecord | undefined> {
    // Concurrent DELETEs of one row queue on its lock; the later ones find it gone and return nothing.
    const [row] = await this.#rows('DELETE FROM interactions WHERE id = $1 AND expires_at > $2 RETURNING *', [
      id,
      now,
    ]);
    return row && toInteraction(row);
  }

  async saveConnection(c: ConnectionRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO connections (user_id, provider, access_token_encrypted, refresh_token_encrypted, expires_at,
       scope, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)
       ON CONFLICT (user_id, provider) DO UPDATE SET access_token_encrypted = excluded.access_token_encrypted,
       refresh_token_encrypted = excluded.refresh_token_encrypted, expires_at = excluded.expires_at,
       scope = excluded.scope, state = 'active', updated_at = excluded.updated_at,
       lease_until = NULL, lease_owner = NULL`,
      [
        c.user_id,
        c.provider,
        c.access_token_encrypted,
        c.refresh_token_encrypted ?? null,
        c.expires_at ?? null,
        c.scope ?? null,
        c.created_at,
        c.updated_at,
      ],
    );
  }

  async getConnection(userId: string, provider: string): Promise<ConnectionRecord | undefined> {
    const [row] = await this.#rows('SELECT * FROM connections WHERE user_id = $1 AND provider = $2', [
      userId,
      provider,
    ]);
    return row ? toConnection(row) : undefined;
  }

  async listConnections(userId?: string): Promise<ConnectionRecord[]> {
    const rows =
      userId === undefined
        ? await this.#rows('SELECT * FROM connections ORDER BY user_id, provider')
        : await this.#rows('SELECT * FROM connections WHERE user_id = $1 ORDER BY provider', [userId]);
    return rows.map(toConnection);
  }

  async deleteConnection(userId: string, provider: string): Promise<boolean> {
    return (
      (await this.#count('DELETE FROM connections WHERE user_id = $1 AND provider = $2', [
        userId,
        provider,
      ])) > 0
    );
  }

  async takeConnectionLease(
    userId: string,
    provider: string,
    owner: string,
    now: number,
    until: number,
  ): Promise<boolean> {
    // One conditional UPDATE: the row lock orders concurrent callers, and each re-checks the
    // condition on the row as the previous one left it (READ COMMITTED), so one wins.
    return (
      (await this.#count(
        `UPDATE connections SET lease_owner = $1, lease_until = $2
         WHERE user_id = $3 AND provider = $4 AND (lease_until IS NULL OR lease_until <= $5)`,
        [owner, until, userId, provider, now],
      )) > 0
    );
  }

  async finishConnectionRefresh(
    userId: string,
    provider: string,
    owner: string,
    outcome: ConnectionRefreshOutcome,
    now: number,
  ): Promise<boolean> {
    if ('broken' in outcome) {
      return (
        (await this.#count(
          `UPDATE connections SET state = 'broken', updated_at = $1, lease_owner = NULL, lease_until = NULL
           WHERE user_id = $2 AND provider = $3 AND lease_owner = $4`,
          [now, userId, provider, owner],
        )) > 0
      );
    }
    return (
      (await this.#count(
        `UPDATE connections SET access_token_encrypted = $1,
         refresh_token_encrypted = coalesce($2, refresh_token_encrypted), expires_at = $3,
         scope = coalesce($4, scope), updated_at = $5, lease_owner = NULL, lease_until = NULL
         WHERE user_id = $6 AND provider = $7 AND lease_owner = $8`,
        [
          outcome.access_token_encrypted,
          outcome.refresh_token_encrypted ?? null,
          outcome.expires_at ?? null,
          outcome.scope ?? null,
          now,
          userId,
          provider,
          owner,
        ],
      )) > 0
    );
  }

  async releaseConnectionLease(userId: string, provider: string, owner: string): Promise<void> {
    await this.#pool.query(
      'UPDATE connections SET lease_owner = NULL, lease_until = NULL WHERE user_id = $1 AND provider = $2 AND lease_owner = $3',
      [userId, provider, owner],
    );
  }

  async hitRateLimit(key: string, windowSeconds: number, now: number): Promise<number> {
    const windowStart = now - (now % windowSeconds);
    const [row] = await this.#rows(
      `INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
       ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1
       RETURNING count`,
      [key, windowStart],
    );
    return Number(row?.count);
  }

  async refundRateLimit(key: string, windowSeconds: number, now: number): Promise<void> {
    await this.#pool.query(
      'UPDATE rate_limits SET count = count - 1 WHERE key = $1 AND window_start = $2 AND count > 0',
      [key, now - (now % windowSeconds)],
    );
  }

  async countRateLimit(key: string, windowSeconds: number, now: number): Promise<number> {
    const [row] = await this.#rows('SELECT count FROM rate_limits WHERE key = $1 AND window_start = $2', [
      key,
      now - (now % windowSeconds),
    ]);
    return row ? Number(row.count) : 0;
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.appendAuditEvents([event]);
  }

  async appendAuditEvents(events: readonly AuditEvent[]): Promise<void> {
    if (!events.length) return;
    // One multi-row INSERT: one round trip, and ids assigned in the order given.
    const values: unknown[] = [];
    const rows = events.map((event) => {
      const base = values.length;
      values.push(
        event.at,
        event.type,
        event.actor ?? null,
        event.client_id ?? null,
        event.user_id ?? null,
        event.grant_id ?? null,
        event.detail ? JSON.stringify(event.detail) : null,
      );
      return `(${Array.from({ length: 7 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    await this.#pool.query(
      `INSERT INTO audit_events (at, type, actor, client_id, user_id, grant_id, detail) VALUES ${rows.join(', ')}`,
      values,
    );
  }

  async listAudit(options: { after?: number; limit?: number }): Promise<AuditEvent[]> {
    const rows = await this.#rows('SELECT * FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2', [
      options.after ?? 0,
      options.limit ?? 100,
    ]);
    return rows.map(toAudit);
  }

  async queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    const { sql, params } = auditQuerySql(query, POSTGRES_AUDIT);
    return (await this.#rows(sql, params)).map(toAudit);
  }

  async countAuditEvents(query: AuditCountQuery): Promise<AuditCount[]> {
    if (!query.types.length) return [];
    const rows = await this.#rows(
      `SELECT type, (at - $1) / $2 AS bucket,
        detail->>'server' AS server, detail->>'name' AS name, detail->>'outcome' AS outcome,
        COUNT(*) AS count
      FROM audit_events
      WHERE type = ANY($3::text[]) AND at >= $1 AND at < $4
      GROUP BY 1, 2, 3, 4, 5`,
      [query.from, query.bucketSeconds, [...query.types], query.to],
    );
    return rows.map((row) => toAuditCount(row, query));
  }

  async prune(now: number): Promise<void> {
    await this.#transaction(async (tx) => {
      await tx.query('DELETE FROM authorization_codes WHERE expires_at <= $1', [now - 3600]);
      await tx.query('DELETE FROM sessions WHERE expires_at <= $1', [now]);
      await tx.query('DELETE FROM interactions WHERE expires_at <= $1', [now]);
      await tx.query('DELETE FROM revocations WHERE expires_at <= $1', [now]);
      await tx.query('DELETE FROM rate_limits WHERE window_start <= $1', [now - 86400]);
      await tx.query('DELETE FROM refresh_tokens WHERE expires_at <= $1', [now]);
    });
  }
}

/**
 * Connects to PostgreSQL, brings the schema up to date (safely, even when several instances start
 * together) and returns the store.
 *
 * @example
 * const store = await openPostgresStore({ connectionString: 'postgres://gatehouse@db:5432/gatehouse?schema=auth' });
 * const as = await createAuthorizationServer({ issuer, store, masterSecret });
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const { pool, schema } = resolvePoolConfig(options);
  const store = new PostgresStore(pool);
  try {
    await store.migrate(schema);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
