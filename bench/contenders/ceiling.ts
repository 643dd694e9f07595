/**
 * The ceiling: a bare node:http server that reads and parses the same form body and signs one
 * ES256 JWT per request with jose, and nothing else (no client authentication, no storage).
 * No authorization server can do less work per request and still answer with a signed token.
 *
 * Run as a child process of bench/run.ts (IPC channel required).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import { ACCESS_TOKEN_TTL, BENCH_SCOPE, type MintRequest, type ReadyMessage } from '../protocol.ts';

const { privateKey } = await generateKeyPair('ES256');
const kid = randomUUID();
const clientId = 'bench-client';

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const resource = `${issuer}/mcp`;

server.on('request', async (req, res) => {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const grantType = form.get('grant_type');
    const now = Math.floor(Date.now() / 1000);
    const scope = form.get('scope') ?? BENCH_SCOPE;
    const accessToken = await new SignJWT({
      iss: issuer,
      sub: clientId,
      aud: form.get('resource') ?? resource,
      exp: now + ACCESS_TOKEN_TTL,
      iat: now,
      jti: randomUUID(),
      client_id: clientId,
      scope,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .sign(privateKey);
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_TTL,
      scope,
    };
    // A random value, so that the load generator's rotation chain has something to follow.
    if (grantType === 'refresh_token') body.refresh_token = randomBytes(32).toString('base64url');
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  } catch {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{"error":"server_error"}');
  }
});

process.on('message', (message: MintRequest) => {
  if (message.type !== 'mint') return;
  const tokens = Array.from({ length: message.count }, () => randomBytes(32).toString('base64url'));
  process.send?.({ type: 'minted', id: message.id, tokens });
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

const ready: ReadyMessage = {
  type: 'ready',
  tokenEndpoint: `${issuer}/oauth/token`,
  resource,
  clientId,
  clientSecret: 'not-checked',
};
process.send?.(ready);
