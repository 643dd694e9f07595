import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBearerChallenge, parseBearerChallenge } from './www-authenticate.ts';

test('RFC 6750 §3 / RFC 9728 §5.1: a challenge round-trips, quotes escaped', () => {
  const header = formatBearerChallenge({
    error: 'insufficient_scope',
    scope: 'tools:execute:database tools:list',
    resource_metadata: 'https://mcp.example/.well-known/oauth-protected-resource/mcp',
    error_description: 'needs "database"',
  });
  assert.equal(
    header,
    'Bearer error="insufficient_scope", error_description="needs \\"database\\"", scope="tools:execute:database tools:list", resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp"',
  );
  assert.deepEqual(parseBearerChallenge(header), {
    error: 'insufficient_scope',
    error_description: 'needs "database"',
    scope: 'tools:execute:database tools:list',
    resource_metadata: 'https://mcp.example/.well-known/oauth-protected-resource/mcp',
  });
});

test('RFC 9110 §11.6.1: the Bearer challenge is found among others', () => {
  const parsed = parseBearerChallenge(
    'Basic realm="x", Bearer resource_metadata="https://a/b", scope=tools:list',
  );
  assert.deepEqual(parsed, { resource_metadata: 'https://a/b', scope: 'tools:list' });
  assert.equal(parseBearerChallenge('Basic realm="x"'), undefined);
});
