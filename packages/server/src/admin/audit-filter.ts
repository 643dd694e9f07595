import { OAuthError } from '@gatehouse/core';
import type { Context } from '../context.ts';
import type { AuditQuery } from '../store/types.ts';
import { parseUtc } from './time.ts';

/**
 * The audit trail's filters as the console's query string names them, shared by the page, the
 * follow view and the JSON-lines export, so a link from one to another keeps what was asked.
 * `user` is a username (or a user id); `from`/`to` are UTC times (`from` inclusive, `to` exclusive).
 */
export const AUDIT_FILTER_FIELDS = [
  'user',
  'client',
  'server',
  'tool',
  'outcome',
  'type',
  'from',
  'to',
] as const;
export type AuditFilterField = (typeof AUDIT_FILTER_FIELDS)[number];

/** The outcomes the gateway records on `mcp.call` events. */
export const AUDIT_OUTCOMES = ['allowed', 'denied', 'upstream_error'] as const;

/** The filters given in `params` (only the known fields, trimmed, empty ones dropped). */
export function auditFilters(params: URLSearchParams): Map<AuditFilterField, string> {
  const filters = new Map<AuditFilterField, string>();
  for (const field of AUDIT_FILTER_FIELDS) {
    const value = params.get(field)?.trim();
    if (value) filters.set(field, value.slice(0, 200));
  }
  return filters;
}

/** The query string of `filters` plus `extra` (e.g. `before`, `follow`), `?`-prefixed or empty. */
export function auditSearch(
  filters: Map<AuditFilterField, string>,
  extra: Record<string, string> = {},
): string {
  const search = new URLSearchParams([...filters, ...Object.entries(extra)]).toString();
  return search ? `?${search}` : '';
}

/**
 * The store query for `filters`: a username becomes its user id (an unknown name is taken as an
 * id, so events of removed users stay findable); a time that is not one is a 400.
 */
export async function auditQueryOf(
  ctx: Context,
  filters: Map<AuditFilterField, string>,
): Promise<AuditQuery> {
  const time = (field: 'from' | 'to') => {
    const value = parseUtc(filters.get(field) ?? null);
    if (Number.isNaN(value)) {
      throw new OAuthError(
        'invalid_request',
        `${field}: expected a UTC date and time such as 2026-12-01T09:00.`,
      );
    }
    return value;
  };
  const user = filters.get('user');
  return {
    user_id: user === undefined ? undefined : ((await ctx.store.getUserByName(user))?.id ?? user),
    client_id: filters.get('client'),
    server: filters.get('server'),
    tool: filters.get('tool'),
    outcome: filters.get('outcome'),
    type: filters.get('type'),
    since: time('from'),
    until: time('to'),
  };
}
