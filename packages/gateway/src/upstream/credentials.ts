/**
 * Upstream API credentials (the token vault's side of the gateway). A server configured with a
 * `connection` calls its upstream with the calling user's own token for that API, never the MCP
 * client's Gatehouse token (MCP security: no token passthrough) and never another user's.
 */
import { createHash } from 'node:crypto';
import { UpstreamError } from './errors.ts';

/**
 * What the vault answers for one user and server: the current upstream access token, or the URL
 * of the page where the user connects (`missing`) or reconnects (`broken`) their account.
 */
export type UpstreamCredential = { token: string } | { missing: string } | { broken: string };

/** The vault, as the gateway sees it: `(server, userId)` → the user's credential for that server's connection. */
export type Credentials = (server: string, userId: string) => Promise<UpstreamCredential>;

/**
 * Tells the vault that the upstream refused (HTTP 401) the user's token, which `isRejected`
 * recognises: the vault renews it (a refresh) or answers `broken` (the user reconnects).
 */
export type CredentialRejected = (
  server: string,
  userId: string,
  isRejected: (token: string) => boolean,
) => Promise<UpstreamCredential>;

/**
 * The one sentence a user reads when a server's connection is not usable: what to do and where.
 * The URL is the connect page (no secret in it); the token itself never appears in any message.
 */
export function connectionError(
  server: string,
  credential: { missing: string } | { broken: string },
): UpstreamError {
  if ('missing' in credential) {
    return new UpstreamError(
      server,
      'not_connected',
      `The MCP server "${server}" needs your account on its upstream service: connect it at ${credential.missing} and try again.`,
      { connectUrl: credential.missing },
    );
  }
  return new UpstreamError(
    server,
    'not_connected',
    `The connection of the MCP server "${server}" to its upstream service stopped working: reconnect it at ${credential.broken} and try again.`,
    { connectUrl: credential.broken },
  );
}

/**
 * A fingerprint of an upstream token, kept beside the process or connection that holds it so a
 * changed token (a refresh) is noticed without keeping a second copy of the token around.
 */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
