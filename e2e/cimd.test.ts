import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { authorize, tokenRequest } from './helpers/agent.ts';
import { type InProcessServer, startInProcess } from './helpers/in-process.ts';
import { startLoopbackServer } from './helpers/loopback.ts';

/**
 * A Client ID Metadata Document client end to end: the document is served by a loopback server in
 * this test, and the AS is told (by loudly named development settings) that loopback http is fine.
 */
let s: InProcessServer;
let docs: Awaited<ReturnType<typeof startLoopbackServer>>;
let clientId: string;
const CALLBACK = 'http://127.0.0.1/callback';
let fetches = 0;

before(async () => {
  docs = await startLoopbackServer((req, res) => {
    if (req.url !== '/oauth/client.json' && req.url !== '/oauth/impostor.json') {
      res.writeHead(404).end();
      return;
    }
    if (req.url === '/oauth/client.json') fetches++;
    // The impostor document claims to be the real client: its client_id is not its own URL.
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
    res.end(
      JSON.stringify({
        client_id: clientId,
        client_name: 'Metadata Document App',
        redirect_uris: [CALLBACK],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      }),
    );
  });
  clientId = `${docs.url}/oauth/client.json`;
  s = await startInProcess({
    clientIdMetadataDocuments: { dangerouslyAllowPrivateNetworks: true, dangerouslyAllowInsecureHttp: true },
  });
  await s.addUser('heidi', 'heidi-password-123');
});
after(async () => {
  await s?.close();
  await docs?.close();
});

test('CIMD draft §3, MCP 2025-11-25: a URL client_id is fetched, the consent page says verified with the domain, and the flow completes', async () => {
  const flow = await authorize({
    issuer: s.issuer,
    clientId,
    redirectUri: 'http://127.0.0.1:50123/callback',
    scope: 'tools:list',
    username: 'heidi',
    password: 'heidi-password-123',
  });
  const page = flow.consentPage ?? '';
  assert.match(page, /Metadata Document App/);
  assert.match(page, /class="identity verified"/);
  assert.match(page, /published by <strong>127\.0\.0\.1<\/strong>/);
  assert.doesNotMatch(page, /Unverified/);
  assert.match(page, /class="redirect-host">127\.0\.0\.1:50123</);
  assert.ok(flow.params.code);
  assert.equal(flow.params.iss, s.issuer);

  const token = await tokenRequest(s.issuer, {
    grant_type: 'authorization_code',
    code: flow.params.code as string,
    code_verifier: flow.verifier,
    redirect_uri: 'http://127.0.0.1:50123/callback',
    client_id: clientId,
  });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  assert.equal(decodeJwt(token.body.access_token as string).client_id, clientId);
  assert.ok(fetches >= 1);
});

test('CIMD draft §4: a redirect URI not listed in the document gets an error page, never a redirect', async () => {
  const response = await fetch(
    `${s.issuer}/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'https://evil.example/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`,
    { redirect: 'manual' },
  );
  assert.equal(response.status, 400);
  assert.equal(response.headers.get('location'), null);
  await response.body?.cancel();
});

test('CIMD draft §4.1: a document whose client_id differs from its URL is refused with an error page', async () => {
  const other = `${docs.url}/oauth/impostor.json`;
  const response = await fetch(
    `${s.issuer}/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: other,
      redirect_uri: CALLBACK,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`,
    { redirect: 'manual' },
  );
  // The client is unverifiable, so there is nowhere safe to redirect.
  assert.match(await response.clone().text(), /not registered|client_id/);
  assert.equal(response.status, 400);
  assert.equal(response.headers.get('location'), null);
  await response.body?.cancel();
});
