import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { auth, Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchChromium } from '../helpers/browser.ts';
import { BrowserOAuthProvider, type LoopbackCallback, startCallback } from '../mcp/browser-provider.ts';
import { recordingFetch } from '../mcp/traffic.ts';
import { scopes } from '../mcp/wire.ts';
import { gatewayScene, text } from './scene.ts';
import { DEMO_STDIO_SERVER, EVERYTHING_SERVER } from './upstreams.ts';

/**
 * The official MCP SDK client v2 with nothing but an `OAuthClientProvider` and a person in headless
 * Chromium, against servers the gateway serves from a configuration file: Gatehouse's demo run as
 * a stdio process (tools split by readOnlyHint) and the official "everything" server over stdio.
 */
const skip = browserSkipReason();
const TITLE = 'Demo notes and files';

const scene = gatewayScene({
  skip,
  users: ['vera'],
  config: ({ scratch }) => ({
    mcpServers: {
      demo: {
        command: process.execPath,
        args: [DEMO_STDIO_SERVER, '--data', join(scratch, 'demo')],
        title: TITLE,
        readOnlyScope: true,
      },
      'everything-stdio': {
        command: process.execPath,
        args: [EVERYTHING_SERVER, 'stdio'],
        title: 'Everything',
      },
    },
  }),
});

let callback: LoopbackCallback;
let browser: Browser;
let page: Page;
before(async () => {
  if (skip) return;
  callback = await startCallback();
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
});
after(async () => {
  await browser?.close();
  await callback?.close();
});

const provider = (clientName: string) =>
  new BrowserOAuthProvider({ page, callback, clientName, username: 'vera', password: 'vera-password-123' });

/** Authorizes `provider` for `url` (Chromium signs in and consents) and connects an SDK v2 client. */
async function connected(url: URL, who: BrowserOAuthProvider, scope?: string) {
  if (scope !== undefined) {
    assert.equal(await auth(who, { serverUrl: url, scope }), 'REDIRECT');
  } else {
    await assert.rejects(
      new Client({ name: 'e2e-gateway', version: '1.0.0' }).connect(
        new StreamableHTTPClientTransport(url, { authProvider: who }),
      ),
      UnauthorizedError,
    );
  }
  const traffic = recordingFetch();
  const transport = new StreamableHTTPClientTransport(url, { authProvider: who, fetch: traffic.fetch });
  await transport.finishAuth(who.takeCallback());
  const client = new Client({ name: 'e2e-gateway', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, traffic };
}

test('MCP authorization through the gateway (SDK v2): a 401 at /mcp/demo leads to RFC 9728 discovery at the path-suffixed metadata, DCR and PKCE; the consent page in Chromium names the server’s title and its tools; calls reach the stdio upstream', {
  skip,
}, async () => {
  const url = new URL(scene.url('demo'));
  const first = provider('SDK v2 gateway agent');
  let consent = '';
  first.onConsent = async (p) => {
    consent = (await p.locator('body').textContent()) ?? '';
  };
  const traffic = recordingFetch();
  const transport = new StreamableHTTPClientTransport(url, { authProvider: first, fetch: traffic.fetch });
  await assert.rejects(
    new Client({ name: 'e2e-gateway', version: '1.0.0' }).connect(transport),
    UnauthorizedError,
  );
  assert.deepEqual(traffic.lines().slice(0, 4), [
    'POST /mcp/demo 401',
    'GET /.well-known/oauth-protected-resource/mcp/demo 200',
    'GET /.well-known/oauth-authorization-server 200',
    'POST /oauth/register 201',
  ]);
  const request = first.authorizations[0]?.searchParams;
  assert.equal(request?.get('resource'), url.href, 'RFC 8707: the server’s own URL as resource');
  assert.equal(request?.get('code_challenge_method'), 'S256');
  assert.ok(consent.includes(TITLE), consent);
  assert.match(
    consent,
    /list_files/,
    'consent names the tools a scope unlocks (from the upstream’s tools/list)',
  );

  await transport.finishAuth(first.takeCallback());
  const client = new Client({ name: 'e2e-gateway', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { authProvider: first }));
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'execute',
      'list_files',
      'query',
      'read_file',
      'search_files',
      'write_file',
    ]);
    assert.match(text(await client.callTool({ name: 'list_files', arguments: {} })), /README\.md/);
  } finally {
    await client.close();
  }
});

test('MCP step-up through the gateway (SDK v2): a token for the read-only tools lists only them; `execute` gets 403 insufficient_scope naming tools:execute:demo; the SDK re-authorizes for the union, the person consents again, and the call succeeds', {
  skip,
}, async () => {
  const url = new URL(scene.url('demo'));
  const narrow = provider('SDK v2 gateway narrow agent');
  const consents: string[] = [];
  narrow.onConsent = async (p) => {
    consents.push((await p.locator('body').textContent()) ?? '');
  };
  const { client, transport, traffic } = await connected(url, narrow, 'tools:list tools:execute:demo:read');
  try {
    assert.deepEqual(scopes(narrow.tokens()?.scope), ['tools:execute:demo:read', 'tools:list']);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['list_files', 'query', 'read_file', 'search_files']);
    assert.match(
      text(await client.callTool({ name: 'query', arguments: { sql: 'SELECT title FROM notes' } })),
      /Welcome/,
    );

    const before = traffic.log.length;
    const sql = "UPDATE notes SET title = 'Stepped up' WHERE id = 1";
    await assert.rejects(client.callTool({ name: 'execute', arguments: { sql } }), UnauthorizedError);
    const refused = traffic.log.slice(before).find((e) => e.status === 403);
    assert.ok(refused, traffic.lines().join('\n'));
    assert.equal(refused.path, '/mcp/demo');
    assert.match(refused.challenge ?? '', /error="insufficient_scope"/);
    assert.match(refused.challenge ?? '', /scope="[^"]*\btools:execute:demo\b(?!:)/);

    const stepUp = narrow.authorizations[1];
    assert.ok(stepUp, 'a second authorization request');
    assert.ok(scopes(stepUp.searchParams.get('scope')).includes('tools:execute:demo'));
    assert.ok(scopes(stepUp.searchParams.get('scope')).includes('tools:execute:demo:read'), 'the union');
    assert.equal(narrow.consentShown, true);
    assert.equal(consents.length, 2);
    assert.ok(consents[1]?.includes(TITLE));
    await transport.finishAuth(narrow.takeCallback());
    assert.match(text(await client.callTool({ name: 'execute', arguments: { sql } })), /1/);
    assert.match(
      text(
        await client.callTool({ name: 'query', arguments: { sql: 'SELECT title FROM notes WHERE id = 1' } }),
      ),
      /Stepped up/,
    );
  } finally {
    await client.close();
  }
});

test('MCP progress through the gateway: notifications/progress of a long-running upstream tool reach the SDK v2 client, then the result', {
  skip,
}, async () => {
  const { client } = await connected(
    new URL(scene.url('everything-stdio')),
    provider('SDK v2 progress agent'),
  );
  try {
    const progress: number[] = [];
    const result = await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 2 } },
      { onprogress: (p) => progress.push(p.progress) },
    );
    assert.match(text(result), /Long running operation completed/);
    assert.deepEqual(progress, [1, 2]);
  } finally {
    await client.close();
  }
});
