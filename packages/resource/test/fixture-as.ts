/**
 * A small RFC 8414 authorization server for tests: metadata, a JWKS, jose-signed RFC 9068 access
 * tokens, RFC 7662 introspection of opaque tokens, and the long-polled revocation feed, on
 * 127.0.0.1. Not Gatehouse's AS: the guard must work with any AS, so this is a fair stand-in.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { narrowScopes, type RevocationEntry, type RevocationSource } from '@gatehouse/core';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export interface MintOptions {
  aud?: string | string[];
  scope?: string;
  sub?: string;
  client_id?: string;
  gid?: string;
  jti?: string;
  iss?: string;
  /** Seconds from the fixture's `now()`; default 300. */
  expiresIn?: number;
  nbf?: number;
  typ?: string;
  /** Sign with a key that is not in the JWKS. */
  foreignKey?: boolean;
  extra?: Record<string, unknown>;
}

export interface TestAuthorizationServer {
  issuer: string;
  /** The default resource tokens are minted for. */
  mint(options?: MintOptions): Promise<string>;
  /** Registers an opaque token for introspection. */
  opaque(claims: Record<string, unknown>): string;
  revokeGrant(gid: string, exp?: number): void;
  revokeToken(jti: string, exp?: number): void;
  /** From now on tokens of `gid` carry at most `scope` (space-delimited). */
  narrowGrant(gid: string, scope: string, exp?: number): void;
  /** In-process view of the revocations, as the real AS gives its own guard. */
  revocations: RevocationSource;
  /** Replaces the signing key (new kid); old tokens stop verifying once the guard refetches. */
  rotateKey(): Promise<void>;
  counts: { metadata: number; jwks: number; feed: number; introspection: number };
  /** Credentials the guard uses for introspection. */
  introspectionClient: { clientId: string; clientSecret: string };
  close(): Promise<void>;
}

export async function startTestAuthorizationServer(
  options: { now?: () => number; resource?: string } = {},
): Promise<TestAuthorizationServer> {
  const now = options.now ?? Date.now;
  const seconds = () => Math.floor(now() / 1000);
  let key = await newKey();
  const foreign = await newKey();
  const entries: Array<{ seq: number; entry: RevocationEntry }> = [];
  let seq = 0;
  const waiting = new Set<() => void>();
  const opaqueTokens = new Map<string, Record<string, unknown>>();
  const counts = { metadata: 0, jwks: 0, feed: 0, introspection: 0 };
  const introspectionClient = { clientId: 'resource-server', clientSecret: randomUUID() };

  const server = createServer((req, res) => void route(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function json(res: ServerResponse, body: unknown, status = 200) {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  }

  async function route(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', issuer);
    switch (url.pathname) {
      case '/.well-known/oauth-authorization-server':
        counts.metadata++;
        return json(res, {
          issuer,
          authorization_endpoint: `${issuer}/oauth/authorize`,
          token_endpoint: `${issuer}/oauth/token`,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          introspection_endpoint: `${issuer}/oauth/introspect`,
          response_types_supported: ['code'],
          code_challenge_methods_supported: ['S256'],
        });
      case '/.well-known/jwks.json':
        counts.jwks++;
        return json(res, { keys: [key.publicJwk] });
      case '/oauth/introspect':
        return introspect(req, res);
      case '/oauth/revocations':
        return feed(url, req, res);
      default:
        return json(res, { error: 'not_found' }, 404);
    }
  }

  async function introspect(req: IncomingMessage, res: ServerResponse) {
    counts.introspection++;
    const expected = `Basic ${Buffer.from(`${introspectionClient.clientId}:${introspectionClient.clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) return json(res, { error: 'invalid_client' }, 401);
    let body = '';
    for await (const chunk of req) body += chunk;
    const token = new URLSearchParams(body).get('token') ?? '';
    const claims = opaqueTokens.get(token);
    const active = claims !== undefined && (claims.exp as number) > seconds();
    return json(res, active ? { active: true, iss: issuer, ...claims } : { active: false });
  }

  function feed(url: URL, req: IncomingMessage, res: ServerResponse) {
    counts.feed++;
    const after = url.searchParams.get('after');
    const since = after === null ? -1 : Number(after);
    const wait = Math.min(Number(url.searchParams.get('wait') ?? 0), 25);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = () => {
      waiting.delete(answer);
      clearTimeout(timer);
      const live = entries.filter((e) => e.entry.exp >= seconds());
      const fresh = after === null ? live : live.filter((e) => e.seq > since);
      json(res, { cursor: String(seq), revoked: fresh.map((e) => e.entry) });
    };
    const hasNews = after === null || entries.some((e) => e.seq > since);
    if (hasNews || wait <= 0) return answer();
    waiting.add(answer);
    timer = setTimeout(answer, wait * 1000);
    req.on('close', () => {
      waiting.delete(answer);
      clearTimeout(timer);
    });
  }

  function revoke(entry: RevocationEntry) {
    entries.push({ seq: ++seq, entry });
    for (const answer of [...waiting]) answer();
  }

  return {
    issuer,
    async mint(o = {}) {
      const iat = seconds();
      const signer = o.foreignKey ? foreign : key;
      return new SignJWT({
        scope: o.scope ?? '',
        client_id: o.client_id ?? 'test-client',
        gid: o.gid ?? randomUUID(),
        ...(o.nbf !== undefined ? { nbf: o.nbf } : {}),
        ...o.extra,
      })
        .setProtectedHeader({ alg: 'ES256', typ: o.typ ?? 'at+jwt', kid: signer.kid })
        .setIssuer(o.iss ?? issuer)
        .setSubject(o.sub ?? 'user-1')
        .setAudience(o.aud ?? options.resource ?? '')
        .setIssuedAt(iat)
        .setExpirationTime(iat + (o.expiresIn ?? 300))
        .setJti(o.jti ?? randomUUID())
        .sign(signer.privateKey);
    },
    opaque(claims) {
      const token = `opaque_${randomUUID()}`;
      opaqueTokens.set(token, claims);
      return token;
    },
    revokeGrant: (gid, exp = seconds() + 3600) => revoke({ gid, exp }),
    revokeToken: (jti, exp = seconds() + 3600) => revoke({ jti, exp }),
    narrowGrant: (gid, scope, exp = seconds() + 3600) => revoke({ gid, scope, exp }),
    revocations: {
      isRevoked: ({ jti, gid }) =>
        entries.some((e) =>
          'jti' in e.entry
            ? e.entry.jti === jti
            : !('scope' in e.entry) && gid !== undefined && e.entry.gid === gid,
        ),
      narrowedScope: (gid) => {
        let cap: string[] | undefined;
        for (const { entry } of entries) {
          if (!('scope' in entry) || entry.gid !== gid) continue;
          const scope = entry.scope.split(' ').filter(Boolean);
          cap = cap ? narrowScopes(cap, scope) : scope;
        }
        return cap;
      },
    },
    async rotateKey() {
      key = await newKey();
    },
    counts,
    introspectionClient,
    async close() {
      for (const answer of [...waiting]) answer();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function newKey(): Promise<{ kid: string; privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = randomUUID();
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}
