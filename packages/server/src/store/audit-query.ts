import type { AuditQuery } from './types.ts';

/** The gateway's `mcp.call` detail fields a query may filter on (an allow-list: they become SQL). */
type DetailField = 'server' | 'name' | 'outcome';

/** How one SQL dialect writes a bind placeholder and reads a string field of the JSON `detail`. */
export interface AuditDialect {
  /** The placeholder of the `index`-th (1-based) parameter. */
  placeholder(index: number): string;
  /** The expression for `detail.<field>`; the same text as the migration's index uses. */
  detail(field: DetailField): string;
}

export const SQLITE_AUDIT: AuditDialect = {
  placeholder: () => '?',
  detail: (field) => `json_extract(detail, '$.${field}')`,
};

export const POSTGRES_AUDIT: AuditDialect = {
  placeholder: (index) => `$${index}`,
  detail: (field) => `(detail->>'${field}')`,
};

export const AUDIT_QUERY_DEFAULT_LIMIT = 100;
export const AUDIT_QUERY_MAX_LIMIT = 1000;

/**
 * The one statement behind `Store.queryAudit`, for either dialect: every given filter ANDed, newest
 * first, bounded. Only values are bound; column names come from this module, never from input.
 *
 * @example auditQuerySql({ user_id: 'u1', limit: 10 }, SQLITE_AUDIT)
 * // { sql: 'SELECT * FROM audit_events WHERE user_id = ? ORDER BY id DESC LIMIT ?', params: ['u1', 10] }
 */
export function auditQuerySql(query: AuditQuery, dialect: AuditDialect): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (value: unknown) => {
    params.push(value);
    return dialect.placeholder(params.length);
  };
  const equal = (expression: string, value: string | undefined) => {
    if (value !== undefined) where.push(`${expression} = ${bind(value)}`);
  };
  equal('user_id', query.user_id);
  equal('client_id', query.client_id);
  equal('actor', query.actor);
  equal('type', query.type);
  equal(dialect.detail('server'), query.server);
  equal(dialect.detail('name'), query.tool);
  equal(dialect.detail('outcome'), query.outcome);
  if (query.since !== undefined) where.push(`at >= ${bind(query.since)}`);
  if (query.until !== undefined) where.push(`at < ${bind(query.until)}`);
  if (query.before !== undefined) where.push(`id < ${bind(query.before)}`);
  const wanted = Number.isFinite(query.limit) ? Math.trunc(query.limit as number) : AUDIT_QUERY_DEFAULT_LIMIT;
  const limit = Math.min(Math.max(1, wanted), AUDIT_QUERY_MAX_LIMIT);
  const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  return { sql: `SELECT * FROM audit_events${filter} ORDER BY id DESC LIMIT ${bind(limit)}`, params };
}
