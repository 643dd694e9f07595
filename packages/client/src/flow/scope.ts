import { formatScope, OFFLINE_ACCESS, parseScope } from '@gatehouse/core';

/**
 * The scope to request, in the MCP spec's order: the challenge's `scope`, else the resource's
 * `scopes_supported`, else none (omitted). `offline_access` is added when the authorization server
 * lists it and the client wants a refresh token (SEP-2207); it is never added otherwise.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-selection-strategy
 */
export function selectScope(input: {
  challengeScope?: string | undefined;
  resourceScopesSupported?: readonly string[] | undefined;
  serverScopesSupported?: readonly string[] | undefined;
  /** Scopes already held or requested for this resource; step-up asks for their union (SEP-2350). */
  held?: readonly string[] | undefined;
  wantRefreshToken?: boolean;
}): string | undefined {
  const base = input.challengeScope
    ? parseScope(input.challengeScope)
    : input.resourceScopesSupported?.length
      ? [...input.resourceScopesSupported]
      : [];
  const scopes = [...(input.held ?? []), ...base];
  if (
    scopes.length &&
    input.wantRefreshToken !== false &&
    input.serverScopesSupported?.includes(OFFLINE_ACCESS)
  ) {
    scopes.push(OFFLINE_ACCESS);
  }
  return scopes.length ? formatScope(scopes) : undefined;
}
