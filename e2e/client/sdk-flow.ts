import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Exchange } from './helpers.ts';

/**
 * Checks, on the recorded wire traffic, the MCP authorization sequence an SDK client went through
 * with McpOAuthProvider: a 401 with `resource_metadata`, RFC 9728 then RFC 8414 discovery, DCR of a
 * loopback redirect URI, an authorization request with PKCE S256, `state` and `resource`, and a
 * code exchange whose verifier matches the challenge. Shared by the v1 and v2 SDK tests.
 */
export function assertAuthorizationSequence(
  log: Exchange[],
  authorizationUrl: URL | undefined,
  mcpUrl: string,
): void {
  const first = log.find((e) => e.url.href === mcpUrl);
  assert.equal(first?.status, 401, 'the first MCP request is refused');
  assert.equal(first?.authorization, null);
  assert.match(first?.wwwAuthenticate ?? '', /resource_metadata="[^"]+"/);

  const index = (predicate: (e: Exchange) => boolean) => log.findIndex(predicate);
  const prm = index(
    (e) => e.url.pathname.startsWith('/.well-known/oauth-protected-resource') && e.status === 200,
  );
  const asMeta = index(
    (e) => e.url.pathname === '/.well-known/oauth-authorization-server' && e.status === 200,
  );
  const register = index((e) => e.url.pathname === '/oauth/register');
  const token = index((e) => e.url.pathname === '/oauth/token');
  assert.ok(prm >= 0 && asMeta > prm, 'protected-resource metadata, then authorization-server metadata');
  assert.ok(register > asMeta, 'dynamic client registration after discovery');
  assert.equal(log[register]?.status, 201);
  const registered = JSON.parse(log[register]?.body ?? '{}') as { redirect_uris?: string[] };
  assert.match(registered.redirect_uris?.[0] ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);

  assert.ok(authorizationUrl, 'the user was sent to the authorization endpoint');
  const q = authorizationUrl.searchParams;
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.equal(q.get('resource'), mcpUrl);
  assert.equal(q.get('redirect_uri'), registered.redirect_uris?.[0]);
  assert.ok((q.get('state') ?? '').length >= 16);

  assert.ok(token > register, 'the code exchange comes last');
  const form = new URLSearchParams(log[token]?.body);
  assert.equal(form.get('grant_type'), 'authorization_code');
  assert.equal(form.get('resource'), mcpUrl);
  const verifier = form.get('code_verifier') ?? '';
  assert.equal(createHash('sha256').update(verifier).digest('base64url'), q.get('code_challenge'));
  assert.equal(log[token]?.status, 200);
}
