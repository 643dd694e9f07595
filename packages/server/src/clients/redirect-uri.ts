import { OAuthError } from '@gatehouse/core';

/**
 * RFC 8252 §7.3 names the loopback IP literals; `localhost` is included too because MCP clients
 * widely register it (the MCP authorization spec allows localhost redirect URIs).
 */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** An http loopback redirect, whose port may vary (RFC 8252 §7.3). */
function isLoopbackIpRedirect(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * Exact redirect URI matching (OAuth 2.1 §2.3.1, RFC 9700 §4.1.3), except that the port of a
 * loopback IP redirect is ignored (RFC 8252 §7.3).
 */
export function matchRedirectUri(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  let req: URL;
  try {
    req = new URL(requested);
  } catch {
    return false;
  }
  if (!isLoopbackIpRedirect(req)) return false;
  return registered.some((candidate) => {
    try {
      const reg = new URL(candidate);
      if (!isLoopbackIpRedirect(reg)) return false;
      reg.port = req.port;
      return reg.href === req.href;
    } catch {
      return false;
    }
  });
}

/**
 * Checks a redirect URI a client registers: absolute, no fragment, https, http only on loopback,
 * or a private-use scheme for native apps (RFC 8252 §7.1); never `javascript:`, `data:` or the like.
 */
export function validateRedirectUri(uri: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new OAuthError('invalid_redirect_uri', `"${uri}" is not an absolute URI.`);
  }
  if (url.hash || uri.includes('#')) throw new OAuthError('invalid_redirect_uri', `"${uri}" has a fragment.`);
  const scheme = url.protocol.slice(0, -1);
  if (['javascript', 'data', 'vbscript', 'file', 'blob', 'about'].includes(scheme)) {
    throw new OAuthError('invalid_redirect_uri', `The "${scheme}:" scheme is not allowed for redirect URIs.`);
  }
  if (scheme === 'http' && !LOOPBACK_HOSTS.has(url.hostname)) {
    throw new OAuthError(
      'invalid_redirect_uri',
      `"${uri}" must use https (http is allowed only on loopback).`,
    );
  }
  // RFC 8252 §7.1: private-use schemes are reverse domain names, which always contain a dot.
  if (scheme !== 'http' && scheme !== 'https' && !scheme.includes('.')) {
    throw new OAuthError(
      'invalid_redirect_uri',
      `"${uri}" uses the scheme "${scheme}:"; private-use schemes must be reverse domain names (RFC 8252 §7.1).`,
    );
  }
}
