import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { authorize, tokenRequest } from './helpers/agent.ts';
import { type InProcessServer, startInProcess, TestClock } from './helpers/in-process.ts';
import { startLoopbackServer } from './helpers/loopback.ts';

/**
 * Client ID Metadata Document clients after an administrator removes them, and documents that ask
 * for what the server does not support. The documents are served on 127.0.0.1; the AS is told by
 * its loudly named development settings that loopback http is fine.
 */
let s: InProcessServer;
let docs: Awaited<ReturnType<typeof startLoopbackServer>>;
const clock = new TestClock(Math.floor(Date.now() / 1000));
const REDIRECT = 'http://127.0.0.1:50123/callback';

const documents = new Map<string, (clientId: string) => Record<string, unknown>>([
  [
    '/app.json',
    (clientId) => ({
      client_id: clientId,
      client_name: 'Removable App',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  ],
  [
    '/constructor.json',
    (clientId) => ({
      client_id: clientId,
      client_name: 'Prototype App',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'constructor'],
    }),
  ],
]);

before(async () => {
  docs = await startLoopbackServer((req, res) => {
    const document = documents.get(req.url ?? '');
    if (!document) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
    res.end(JSON.stringify(document(`${docs.url}${req.url}`)));
  });
  s = await startInProcess({
    now: clock.now,
    clientIdMetadataDocuments: { dangerouslyAllowPrivateNetworks: true, dangerouslyAllowInsecureHttp: true },
  });
  await s.addUser('ivan', 'ivan-password-123');
});
after(async () => {
  await s?.close();
  await docs?.close();
});

async function codeExchange(clientId: string) {
  const flow = await authorize({
    issuer: s.issuer,
    clientId,
    redirectUri: REDIRECT,
    scope: 'tools:list',
    username: 'ivan',
    password: 'ivan-password-123',
  });
  assert.ok(flow.params.code, JSON.stringify(flow.params));
  return tokenRequest(s.issuer, {
    grant_type: 'authorization_code',
    code: flow.params.code as string,
    code_verifier: flow.verifier,
    redirect_uri: REDIRECT,
    client_id: clientId,
  });
}

test('CIMD draft §4.4, RFC 6749 §4.1.3: after `clients remove`, a CIMD client authorizes and exchanges its code again without a restart', async () => {
  const clientId = `${docs.url}/app.json`;
  const first = await codeExchange(clientId);
  assert.equal(first.status, 200, JSON.stringify(first.body));

  // What `gatehouse clients remove` does to the row; the cached document outlives it.
  // The clock stands still: the registry's client cache and the document cache both still hold it.
  assert.ok(await s.store.deleteClient(clientId));

  const again = await codeExchange(clientId);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal((await s.store.getClient(clientId))?.kind, 'cimd');
});

test('RFC 7591 §2, CIMD draft §4.1: a document listing an unsupported grant type ("constructor") is refused, never stored', async () => {
  const clientId = `${docs.url}/constructor.json`;
  const response = await fetch(
    `${s.issuer}/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`,
    { redirect: 'manual' },
  );
  assert.equal(response.status, 400);
  assert.equal(response.headers.get('location'), null);
  assert.match(await response.text(), /grant_types\[1\] must be one of/);
  assert.equal(await s.store.getClient(clientId), undefined);
  const token = await tokenRequest(s.issuer, { grant_type: 'constructor', client_id: clientId });
  assert.ok(token.status === 400 || token.status === 401, JSON.stringify(token.body));
  assert.ok(['invalid_client', 'unsupported_grant_type'].includes(token.body.error as string));
  assert.deepEqual(Object.keys(token.body).sort(), ['error', 'error_description']);
});
