/**
 * What a client's registered `scope` means, in one place. It is always "the scope this client was
 * registered with", and an absent one is "nothing said". Who registered decides what it bounds:
 *
 * - An administrator's registration (`gatehouse clients add --scope`) is a ceiling; without
 *   `--scope` the administrator set none, so the client may ask for any scope the server offers.
 * - A self-registered client (DCR, CIMD) merely said what it expected to need. In a user's
 *   authorization it is only the default: a ceiling would stop MCP step-up and limit nothing,
 *   since such a client can register again; the user's consent bounds it. With client_credentials
 *   nobody consents, so the client gets no more than it registered (RFC 6749 §4.4), and nothing
 *   when it registered nothing.
 */
import { OAuthError, OFFLINE_ACCESS, parseScope, type ScopeCatalogue, scopeCovers } from '@gatehouse/core';
import type { ClientRecord } from '../store/types.ts';

/** The scopes a client may never exceed at /authorize, or undefined when the user's consent is the bound. */
export function scopeCeiling(client: ClientRecord): string[] | undefined {
  return client.kind === 'preregistered' && client.scope !== undefined ? parseScope(client.scope) : undefined;
}

/**
 * The scope of an authorization request that names none (RFC 6749 §3.3: the server uses a
 * pre-defined default): the client's registered scope, else the server's defaults within its ceiling.
 */
export function defaultScope(client: ClientRecord, serverDefaults: readonly string[]): string[] {
  if (client.scope !== undefined) return parseScope(client.scope);
  const ceiling = scopeCeiling(client);
  return serverDefaults.filter((s) => !ceiling || ceiling.some((a) => scopeCovers(a, s)));
}

/**
 * Throws `invalid_scope` (RFC 6749 §5.2) unless every scope is offered by the server and within
 * `limit` (undefined: no limit). `offline_access` asks for a refresh token and is no permission.
 */
export function checkScopeWithin(
  scopes: readonly string[],
  catalogue: ScopeCatalogue,
  limit: readonly string[] | undefined,
): void {
  for (const scope of scopes) {
    if (scope === OFFLINE_ACCESS) continue;
    if (!catalogue.has(scope)) {
      throw new OAuthError('invalid_scope', `The scope "${scope}" is not offered by this server.`);
    }
    if (limit && !limit.some((a) => scopeCovers(a, scope))) {
      throw new OAuthError('invalid_scope', `This application is not allowed to request "${scope}".`);
    }
  }
}

/**
 * The most a client may obtain with client_credentials (RFC 6749 §4.4), where no user consents:
 * an administrator's ceiling (none set: no limit), or what a self-registered client registered.
 */
export function clientCredentialsLimit(client: ClientRecord): string[] | undefined {
  return client.kind === 'preregistered' ? scopeCeiling(client) : parseScope(client.scope);
}
