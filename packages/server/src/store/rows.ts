import { formatScope, narrowScopes, parseScope } from '@gatehouse/core';
import type {
  AuditCount,
  AuditCountQuery,
  AuditEvent,
  AuthorizationCodeRecord,
  BlockedHostRecord,
  ClientKind,
  ClientRecord,
  ConnectionRecord,
  ConsentRecord,
  GrantRecord,
  IdentityRecord,
  InteractionRecord,
  RefreshTokenRecord,
  RefreshTokenRotation,
  RefreshTokenWithGrant,
  RevocationRecord,
  SessionRecord,
  SigningKeyRecord,
  UserRecord,
} from './types.ts';

/**
 * Row → record mappers shared by every SQL store. The column names are the same everywhere; what
 * differs is the driver's types: `pg` returns BIGINT as a string and JSONB already parsed, while
 * `node:sqlite` returns numbers and JSON as text, and booleans as 0/1.
 */
export type Row = Record<string, unknown>;

/** JSON from a JSONB column (already parsed) or a TEXT column (a string to parse). */
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));
const optNumber = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

const isTrue = (v: unknown): boolean => v === true || Number(v) === 1;

/**
 * What `narrowGrant` leaves of a grant's scope (`held`) under a cap, both space-delimited: their
 * meet along the scope hierarchy, so a narrowing never widens. Shared by every SQL store.
 */
export function narrowedGrantScope(held: string, cap: string): string {
  return formatScope(narrowScopes(parseScope(held), parseScope(cap)));
}

export function toClient(row: Row): ClientRecord {
  // resource_server comes from its own column only: metadata a registration supplied never sets it.
  const {
    resource_server: _,
    blocked: __,
    ...metadata
  } = json<Omit<ClientRecord, 'client_id' | 'kind' | 'client_name'>>(row.metadata);
  return {
    ...metadata,
    client_id: row.client_id as string,
    kind: row.kind as ClientKind,
    client_name: row.client_name as string,
    secret_hash: opt(row.secret_hash),
    ...(isTrue(row.resource_server) ? { resource_server: true } : {}),
    ...(isTrue(row.blocked) ? { blocked: true } : {}),
    created_at: Number(row.created_at),
  };
}

export function toIdentity(row: Row): IdentityRecord {
  return {
    provider: row.provider as string,
    subject: row.subject as string,
    user_id: row.user_id as string,
    email: opt(row.email),
    created_at: Number(row.created_at),
  };
}

export function toUser(row: Row): UserRecord {
  return {
    id: row.id as string,
    username: row.username as string,
    password_hash: row.password_hash as string,
    disabled: isTrue(row.disabled),
    ...(isTrue(row.admin) ? { admin: true } : {}),
    created_at: Number(row.created_at),
  };
}

export function toConnection(row: Row): ConnectionRecord {
  return {
    user_id: row.user_id as string,
    provider: row.provider as string,
    access_token_encrypted: row.access_token_encrypted as string,
    refresh_token_encrypted: opt(row.refresh_token_encrypted),
    expires_at: optNumber(row.expires_at),
    scope: opt(row.scope),
    state: row.state === 'broken' ? 'broken' : 'active',
    created_at: Number(row.created_at),
    updated_at: Number(row.updated_at),
    lease_until: optNumber(row.lease_until),
    lease_owner: opt(row.lease_owner),
  };
}

export function toBlockedHost(row: Row): BlockedHostRecord {
  return {
    host: row.host as string,
    blocked_at: Number(row.blocked_at),
    blocked_by: opt(row.blocked_by),
  };
}

export function toCode(row: Row): AuthorizationCodeRecord {
  return {
    code_hash: row.code_hash as string,
    client_id: row.client_id as string,
    user_id: row.user_id as string,
    redirect_uri: row.redirect_uri as string,
    code_challenge: row.code_challenge as string,
    resource: row.resource as string,
    scope: row.scope as string,
    expires_at: Number(row.expires_at),
    ...(isTrue(row.offline_declined) ? { offline_declined: true } : {}),
    grant_id: opt(row.grant_id),
    consumed_at: optNumber(row.consumed_at),
  };
}

export function toGrant(row: Row): GrantRecord {
  return {
    id: row.id as string,
    client_id: row.client_id as string,
    subject: row.subject as string,
    resource: row.resource as string,
    scope: row.scope as string,
    created_at: Number(row.created_at),
    last_used_at: Number(row.last_used_at),
    expires_at: Number(row.expires_at),
    revoked_at: optNumber(row.revoked_at),
  };
}

export function toRefreshToken(row: Row): RefreshTokenRecord {
  return {
    token_hash: row.token_hash as string,
    grant_id: row.grant_id as string,
    client_id: row.client_id as string,
    scope: row.scope as string,
    created_at: Number(row.created_at),
    expires_at: Number(row.expires_at),
    rotated_at: optNumber(row.rotated_at),
    successor_hash: opt(row.successor_hash),
    successor_response: opt(row.successor_response),
  };
}

/** The columns `toGrant` reads. */
const GRANT_COLUMNS = [
  'id',
  'client_id',
  'subject',
  'resource',
  'scope',
  'created_at',
  'last_used_at',
  'expires_at',
  'revoked_at',
] as const;

/**
 * The columns of a refresh token and its grant in one row: the token's as they are, the grant's
 * prefixed `g_` (both tables have client_id, scope, created_at, expires_at).
 */
export const REFRESH_TOKEN_WITH_GRANT_COLUMNS = `refresh_tokens.*, ${GRANT_COLUMNS.map((c) => `grants.${c} AS g_${c}`).join(', ')}`;

/** A row selected with {@link REFRESH_TOKEN_WITH_GRANT_COLUMNS} (the grant LEFT JOINed). */
export function toRefreshTokenWithGrant(row: Row): RefreshTokenWithGrant {
  if (row.g_id === null || row.g_id === undefined) return { token: toRefreshToken(row), grant: undefined };
  const grant: Row = {};
  for (const column of GRANT_COLUMNS) grant[column] = row[`g_${column}`];
  return { token: toRefreshToken(row), grant: toGrant(grant) };
}

/**
 * Why a rotation of a token was not applied, from the token's row read after it: gone; still
 * unrotated, so its grant's user is disabled or gone; or rotated by another caller first.
 */
export function lostRotation(row: Row | undefined): RefreshTokenRotation {
  if (!row) return { status: 'not_found' };
  if (row.rotated_at === null) return { status: 'user_inactive' };
  return { status: 'already_rotated', token: toRefreshToken(row) };
}

export function toRevocation(row: Row): RevocationRecord {
  return {
    seq: Number(row.seq),
    grant_id: opt(row.grant_id),
    jti: opt(row.jti),
    scope: opt(row.scope),
    expires_at: Number(row.expires_at),
  };
}

export function toKey(row: Row): SigningKeyRecord {
  return {
    kid: row.kid as string,
    alg: row.alg as string,
    public_jwk: json<Record<string, unknown>>(row.public_jwk),
    private_jwk_encrypted: row.private_jwk_encrypted as string,
    created_at: Number(row.created_at),
    active_from: Number(row.active_from),
    retired_at: optNumber(row.retired_at),
    expires_at: optNumber(row.expires_at),
  };
}

export function toConsent(row: Row): ConsentRecord {
  return {
    user_id: row.user_id as string,
    client_id: row.client_id as string,
    resource: row.resource as string,
    scope: row.scope as string,
    granted_at: Number(row.granted_at),
  };
}

export function toSession(row: Row): SessionRecord {
  return {
    id_hash: row.id_hash as string,
    user_id: row.user_id as string,
    created_at: Number(row.created_at),
    expires_at: Number(row.expires_at),
  };
}

export function toInteraction(row: Row): InteractionRecord {
  return { id: row.id as string, request: row.request as string, expires_at: Number(row.expires_at) };
}

export function toAudit(row: Row): AuditEvent {
  return {
    id: Number(row.id),
    at: Number(row.at),
    type: row.type as string,
    actor: opt(row.actor),
    client_id: opt(row.client_id),
    user_id: opt(row.user_id),
    grant_id: opt(row.grant_id),
    detail: row.detail === null || row.detail === undefined ? undefined : json(row.detail),
  };
}

/** A GROUP BY row of `countAuditEvents`: the bucket index becomes the bucket's start time. */
export function toAuditCount(row: Row, query: AuditCountQuery): AuditCount {
  return {
    type: row.type as string,
    bucket: query.from + Number(row.bucket) * query.bucketSeconds,
    server: opt(row.server),
    name: opt(row.name),
    outcome: opt(row.outcome),
    count: Number(row.count),
  };
}
