import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorizationServerMetadataUrls } from './authorization-server.ts';
import { protectedResourceMetadataUrls, resourceCovers } from './protected-resource.ts';

test('RFC 9728 §3.1: challenge URL, then path-inserted, then root well-known', () => {
  assert.deepEqual(
    protectedResourceMetadataUrls(new URL('https://x.example/a/mcp'), 'https://x.example/custom.json'),
    [
      'https://x.example/custom.json',
      'https://x.example/.well-known/oauth-protected-resource/a/mcp',
      'https://x.example/.well-known/oauth-protected-resource',
    ],
  );
});

test('RFC 8414 §3.1 / OIDC: issuer with a path tries three locations in the MCP order', () => {
  assert.deepEqual(authorizationServerMetadataUrls('https://as.example/tenant1'), [
    'https://as.example/.well-known/oauth-authorization-server/tenant1',
    'https://as.example/.well-known/openid-configuration/tenant1',
    'https://as.example/tenant1/.well-known/openid-configuration',
  ]);
  assert.deepEqual(authorizationServerMetadataUrls('https://as.example'), [
    'https://as.example/.well-known/oauth-authorization-server',
    'https://as.example/.well-known/openid-configuration',
  ]);
});

test('RFC 9728 §3.3: a resource covers its own URL and sub-paths, never another origin', () => {
  const url = new URL('https://x.example/mcp');
  assert.ok(resourceCovers('https://x.example/mcp', url));
  assert.ok(resourceCovers('https://x.example', url));
  assert.ok(!resourceCovers('https://x.example/mc', url));
  assert.ok(!resourceCovers('https://evil.example/mcp', url));
});
