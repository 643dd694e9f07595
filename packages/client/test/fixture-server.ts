import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A third-party authorization server and MCP resource on 127.0.0.1, small enough to read in one
 * screen, that counts what clients do. It stands in for someone else's servers; Gatehouse's own AS
 * is exercised in the end-to-end tests.
 */
export interface Fixture {
  base: string;
  resource: string;
  counts: { token: number; refresh: number; register: number; authorize: number };
  /** Access tokens the resource accepts. */
  valid: Set<string>;
  /** Refresh tokens the AS accepts. */
  refreshTokens: Set<string>;
  /** Tweaks: the metadata `issuer`, whether S256 is listed, the `iss` sent back. */
  options: {
    issuer?: string;
    s256?: boolean;
    iss?: 'correct' | 'wrong' | 'omit';
    expiresIn?: number;
    /** A path whose requests are accepted and never answered (a stuck server). */
    stall?: string;
  };
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

export async function startFixture(): Promise<Fixture> {
  let n = 0;
  const fx = {
    counts: { token: 0, refresh: 0, register: 0, authorize: 0 },
    valid: new Set<string>(),
    refreshTokens: new Set<string>(),
    options: {},
  } as Fixture;
  const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
  const issue = () => {
    const access = `at-${++n}`;
    const refresh = `rt-${n}`;
    fx.valid.add(access);
    fx.refreshTokens.add(refresh);
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: fx.options.expiresIn ?? 3600,
      refresh_token: refresh,
    };
  };
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', fx.base);
    const path = url.pathname;
    if (path === fx.options.stall) return;
    if (path === '/.well-known/oauth-protected-resource/mcp') {
      return json(res, 200, {
        resource: fx.resource,
        authorization_servers: [fx.base],
        scopes_supported: ['a'],
      });
    }
    if (path === '/.well-known/oauth-authorization-server') {
      return json(res, 200, {
        issuer: fx.options.issuer ?? fx.base,
        authorization_endpoint: `${fx.base}/authorize`,
        token_endpoint: `${fx.base}/token`,
        registration_endpoint: `${fx.base}/register`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: fx.options.s256 === false ? ['plain'] : ['S256'],
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (path === '/register') {
      fx.counts.register++;
      const meta = JSON.parse(await body(req));
      return json(res, 201, { ...meta, client_id: `client-${fx.counts.register}` });
    }
    if (path === '/authorize') {
      fx.counts.authorize++;
      const back = new URL(url.searchParams.get('redirect_uri') as string);
      back.searchParams.set('code', 'the-code');
      back.searchParams.set('state', url.searchParams.get('state') as string);
      if (fx.options.iss !== 'omit')
        back.searchParams.set('iss', fx.options.iss === 'wrong' ? 'https://evil.example' : fx.base);
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (path === '/token') {
      fx.counts.token++;
      const form = new URLSearchParams(await body(req));
      if (form.get('grant_type') === 'refresh_token') {
        fx.counts.refresh++;
        const rt = form.get('refresh_token') as string;
        if (!fx.refreshTokens.delete(rt)) return json(res, 400, { error: 'invalid_grant' });
      }
      return json(res, 200, issue());
    }
    if (path === '/mcp') {
      await body(req);
      const token = req.headers.authorization?.replace(/^Bearer /, '');
      if (!token || !fx.valid.has(token)) {
        return json(
          res,
          401,
          { error: 'invalid_token' },
          {
            'www-authenticate': `Bearer resource_metadata="${fx.base}/.well-known/oauth-protected-resource/mcp"`,
          },
        );
      }
      return json(res, 200, { jsonrpc: '2.0', id: 1, result: { ok: true } });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fx.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fx.resource = `${fx.base}/mcp`;
  fx.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fx;
}
