import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auth, Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { browserSkipReason } from '../helpers/browser.ts';
import { addClient } from '../helpers/gatehouse-cli.ts';
import type { BrowserOAuthProvider } from './browser-provider.ts';
import { LISTING_AND_TWO_TOOL_KINDS, narrowOnConnectedApps, untick } from './least-privilege.ts';
import { assertFirstAuthorization, sdkScene } from './sdk-scene.ts';
import { recordingFetch } from './traffic.ts';
import { rawToolsList, revoke as revokeAt, scopes, text } from './wire.ts';

/**
 * The official MCP SDK client v2 (`@modelcontextprotocol/client`) against `gatehouse serve`, with
 * nothing but an `OAuthClientProvider` and a person in headless Chromium: the SDK discovers, registers,
 * runs PKCE and calls tools on the guarded demo server at `<issuer>/mcp`.
 */
const skip = browserSkipReason();
const USER = { username: 'vera', password: 'vera-password-123' };
const NARROW = 'tools:list tools:execute:filesystem';

const scene = sdkScene(USER, skip);

/** A connected SDK client whose every request is recorded. */
async function connect(authProvider: BrowserOAuthProvider, traffic = recordingFetch()) {
  const transport = new StreamableHTTPClientTransport(scene.mcpUrl, { authProvider, fetch: traffic.fetch });
  const client = new Client({ name: 'e2e-sdk-v2', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, traffic };
}

let first: BrowserOAuthProvider;

test('MCP authorization with SDK v2: a 401 leads to RFC 9728 discovery, DCR, PKCE S256, sign-in and consent in Chromium, then tool calls work', {
  skip,
}, async () => {
  first = scene.provider('SDK v2 agent');
  const traffic = recordingFetch();
  const transport = new StreamableHTTPClientTransport(scene.mcpUrl, {
    authProvider: first,
    fetch: traffic.fetch,
  });
  const client = new Client({ name: 'e2e-sdk-v2', version: '1.0.0' });
  // The first connection ends at the redirect: the app waits for the user to come back.
  await assert.rejects(client.connect(transport), UnauthorizedError);
  const q = assertFirstAuthorization(traffic, first, scene.mcpUrl);
  assert.match(
    traffic.log[0]?.challenge ?? '',
    /^Bearer .*resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/,
  );
  const [authorization] = first.authorizations;
  assert.ok(authorization);
  assert.equal(authorization.origin + authorization.pathname, `${scene.server.issuer}/oauth/authorize`);
  assert.equal(q.get('response_type'), 'code');
  assert.equal(q.get('redirect_uri'), scene.callback.url);

  const params = first.takeCallback();
  assert.equal(params.get('iss'), scene.server.issuer, 'RFC 9207: iss in the authorization response');
  await transport.finishAuth(params);
  assert.equal(traffic.lines().at(-1), 'POST /oauth/token 200');
  const tokens = first.tokens();
  assert.ok(tokens?.access_token && tokens.refresh_token);

  const { client: connected, traffic: after } = await connect(first);
  try {
    const { tools } = await connected.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'execute',
      'list_files',
      'query',
      'read_file',
      'search_files',
      'write_file',
    ]);
    assert.match(text(await connected.callTool({ name: 'list_files', arguments: {} })), /README\.md/);
    assert.match(
      text(await connected.callTool({ name: 'query', arguments: { sql: 'SELECT title FROM notes' } })),
      /Welcome/,
    );
    // Every request got past the guard (the stateless demo answers a GET stream with 405).
    assert.ok(
      after.log.every((e) => e.status !== 401 && e.status !== 403),
      after.lines().join('\n'),
    );
    assert.ok(after.log.every((e) => e.authorization === `Bearer ${tokens.access_token}`));
  } finally {
    await connected.close();
  }
});

/**
 * The host asks for less than the server suggests (listing and the filesystem tools), then calls a
 * database tool: 403 naming `tools:execute:database`, the SDK re-authorizes with the union of what it
 * held and what was challenged (consent for the new scope only), and the app resumes.
 */
async function narrowThenStepUp(narrow: BrowserOAuthProvider) {
  const consentPages: string[] = [];
  const offeredChoices: string[][] = [];
  narrow.onConsent = async (p) => {
    consentPages.push((await p.locator('body').textContent()) ?? '');
    offeredChoices.push(
      await p
        .locator('input[type=checkbox][name=scope]')
        .evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).value).sort()),
    );
  };
  assert.equal(await auth(narrow, { serverUrl: scene.mcpUrl, scope: NARROW }), 'REDIRECT');
  assert.deepEqual(scopes(narrow.authorizations[0]?.searchParams.get('scope')), scopes(NARROW));
  assert.match(consentPages[0] ?? '', /filesystem/i);
  assert.doesNotMatch(consentPages[0] ?? '', /database/i);

  const traffic = recordingFetch();
  const transport = new StreamableHTTPClientTransport(scene.mcpUrl, {
    authProvider: narrow,
    fetch: traffic.fetch,
  });
  await transport.finishAuth(narrow.takeCallback());
  assert.deepEqual(scopes(narrow.tokens()?.scope), scopes(NARROW));
  const client = new Client({ name: 'e2e-sdk-v2', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'list_files',
      'read_file',
      'search_files',
      'write_file',
    ]);
    assert.match(text(await client.callTool({ name: 'list_files', arguments: {} })), /README\.md/);

    const before = traffic.log.length;
    await assert.rejects(
      client.callTool({ name: 'query', arguments: { sql: 'SELECT title FROM notes' } }),
      UnauthorizedError,
    );
    const refused = traffic.log.slice(before).find((e) => e.status === 403);
    assert.ok(refused, traffic.lines().join('\n'));
    assert.equal(refused.path, '/mcp');
    assert.match(refused.challenge ?? '', /error="insufficient_scope"/);
    assert.match(refused.challenge ?? '', /scope="tools:execute:database"/);
    assert.match(refused.challenge ?? '', /resource_metadata="/);

    const stepUp = narrow.authorizations[1];
    assert.ok(stepUp, 'a second authorization request');
    assert.deepEqual(scopes(stepUp.searchParams.get('scope')), [
      'tools:execute:database',
      'tools:execute:filesystem',
      'tools:list',
    ]);
    assert.equal(narrow.consentShown, true, 'the new scope needs the user’s consent');
    assert.match(consentPages[1] ?? '', /database/i);
    // Step-up consent shows only what is new: the earlier scopes are stated, not offered again.
    assert.deepEqual(offeredChoices[1], ['tools:execute:database']);
    assert.match(consentPages[1] ?? '', /can already/i);

    await transport.finishAuth(narrow.takeCallback());
    assert.match(
      text(await client.callTool({ name: 'query', arguments: { sql: 'SELECT title FROM notes' } })),
      /Welcome/,
    );
    // The union kept what was granted before.
    assert.match(text(await client.callTool({ name: 'list_files', arguments: {} })), /README\.md/);
  } finally {
    await client.close();
  }
}

test('MCP authorization: a token without tools:execute:database gets 403 insufficient_scope naming it; SDK v2 step-up asks for the union and then succeeds (pre-registered client)', {
  skip,
}, async () => {
  const registered = await addClient(scene.data.dir, {
    name: 'SDK v2 narrow agent',
    redirectUris: [scene.callback.url],
  });
  const narrow = scene.provider('SDK v2 narrow agent', { ...registered, issuer: scene.server.issuer });
  await narrowThenStepUp(narrow);
  assert.equal(narrow.registrations, 0, 'no DCR for a pre-registered client');
});

test('MCP authorization: step-up works for a client registered by DCR with the narrow scope', {
  skip,
  // The SDK registers with the scope of its first request (RFC 7591 `scope`): for a self-registered
  // client that is a default, not a ceiling, or step-up could never widen it.
}, async () => {
  const narrow = scene.provider('SDK v2 narrow DCR agent');
  await narrowThenStepUp(narrow);
  assert.equal(narrow.registrations, 1, 'step-up reuses the registration');
});

test('RFC 7009: an access token revoked at /oauth/revoke gets 401 invalid_token on the next request; revoking the refresh token ends the grant', {
  skip,
}, async () => {
  const tokens = first.tokens();
  const clientId = first.clientInformation()?.client_id;
  assert.ok(tokens?.refresh_token && clientId);
  const revoke = (token: string) => revokeAt(scene.server.issuer, clientId, token);
  const listTools = (token: string) => rawToolsList(scene.mcpUrl, token);

  assert.equal((await listTools(tokens.access_token)).status, 200);
  assert.equal((await revoke(tokens.access_token)).status, 200);
  const refused = await listTools(tokens.access_token);
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

  // The SDK sees the 401, refreshes (the grant is still alive) and carries on.
  const { client, traffic } = await connect(first);
  try {
    await client.listTools();
    assert.deepEqual(traffic.lines().slice(0, 3), [
      'POST /mcp 401',
      'POST /oauth/token 200',
      'POST /mcp 200',
    ]);
    const renewed = first.tokens();
    assert.ok(renewed?.refresh_token && renewed.access_token !== tokens.access_token);

    // Revoking the refresh token revokes the whole grant: the new access token dies with it.
    assert.equal((await revoke(renewed.refresh_token)).status, 200);
    assert.equal((await listTools(renewed.access_token)).status, 401);
    first.interactive = false;
    const before = traffic.log.length;
    await assert.rejects(client.listTools(), UnauthorizedError);
    assert.deepEqual(traffic.lines().slice(before, before + 2), ['POST /mcp 401', 'POST /oauth/token 400']);
    assert.equal(first.authorizations.length, 2, 'with the grant gone, only a new sign-in helps');
  } finally {
    await client.close();
  }
});

test('Least privilege with SDK v2: a scope unticked at consent is not granted, its tools are not listed and a call gets 403 insufficient_scope; narrowing on connected apps does the same to the token in hand at its next call', {
  skip,
}, async () => {
  const name = 'SDK v2 least-privilege agent';
  const provider = scene.provider(name);
  provider.onConsent = untick(/Run database tools/);
  assert.equal(
    await auth(provider, { serverUrl: scene.mcpUrl, scope: LISTING_AND_TWO_TOOL_KINDS }),
    'REDIRECT',
  );
  const traffic = recordingFetch();
  const transport = new StreamableHTTPClientTransport(scene.mcpUrl, {
    authProvider: provider,
    fetch: traffic.fetch,
  });
  await transport.finishAuth(provider.takeCallback());
  assert.deepEqual(scopes(provider.tokens()?.scope), ['tools:execute:filesystem', 'tools:list']);
  const client = new Client({ name: 'e2e-sdk-v2', version: '1.0.0' });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'list_files',
      'read_file',
      'search_files',
      'write_file',
    ]);
    // The user walks away from the step-up: the call fails with the 403 the SDK saw.
    provider.interactive = false;
    let before = traffic.log.length;
    await assert.rejects(
      client.callTool({ name: 'query', arguments: { sql: 'SELECT 1' } }),
      UnauthorizedError,
    );
    let refused = traffic.log.slice(before).find((e) => e.status === 403);
    assert.match(refused?.challenge ?? '', /error="insufficient_scope"/);
    assert.match(refused?.challenge ?? '', /scope="tools:execute:database"/);

    const token = provider.tokens()?.access_token;
    await narrowOnConnectedApps(scene.page, scene.server.issuer, name, /Run filesystem tools/);
    before = traffic.log.length;
    await assert.rejects(client.callTool({ name: 'list_files', arguments: {} }), UnauthorizedError);
    refused = traffic.log.slice(before).find((e) => e.status === 403);
    assert.equal(refused?.authorization, `Bearer ${token}`, 'the token issued before the narrowing');
    assert.match(refused?.challenge ?? '', /error="insufficient_scope"/);
    assert.match(refused?.challenge ?? '', /scope="tools:execute:filesystem"/);
  } finally {
    await client.close();
  }
});
