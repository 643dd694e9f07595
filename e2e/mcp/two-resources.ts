import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { protectDemo } from '@gatehouse/demo-mcp';
import { createAuthorizationServer, hashPassword, SqliteStore, toNodeListener } from '@gatehouse/server';
import { mountMcpServer } from '../../packages/cli/src/mount.ts';
import { authorize, tokenRequest } from '../helpers/agent.ts';
import { closeServer, listen } from '../helpers/loopback.ts';
import { tempDir } from '../helpers/temp.ts';

const USER = { username: 'olga', password: 'olga-password-123' };
const CLIENT = { client_id: 'two-resources-app', redirect_uri: 'http://127.0.0.1:9/callback' };

/**
 * One authorization server issuing tokens for two MCP servers on the same origin, each the demo
 * behind its own guard, as a company with several MCP servers would run them: `<origin>/mcp` and
 * `<origin>/billing/mcp`. (`gatehouse serve` has only the first, so this one runs in process, on a
 * real SQLite file and real HTTP on 127.0.0.1.)
 */
export async function startTwoResources() {
  const temp = await tempDir('gatehouse-mcp-');
  const store = new SqliteStore(join(temp.dir, 'gatehouse.db'));
  const http = createServer();
  const issuer = await listen(http);
  const resources = { mcp: `${issuer}/mcp`, billing: `${issuer}/billing/mcp` };
  const as = await createAuthorizationServer({
    issuer,
    store,
    masterSecret: randomBytes(32).toString('base64url'),
    resources: [resources.mcp, resources.billing],
  });
  const guardOptions = {
    authorizationServers: [issuer],
    revocations: as.revocations,
    fetch: (input: string | URL | Request, init?: RequestInit) => as.fetch(new Request(input, init)),
  };
  const mcp = protectDemo({ ...guardOptions, dataDir: join(temp.dir, 'mcp'), resource: resources.mcp });
  const billing = protectDemo({
    ...guardOptions,
    dataDir: join(temp.dir, 'billing'),
    resource: resources.billing,
  });
  mountMcpServer(as, '/mcp', mcp.fetch);
  mountMcpServer(as, '/billing/mcp', billing.fetch, { rootMetadata: false });
  http.on('request', toNodeListener(as.fetch, issuer));

  await store.createUser({
    id: randomUUID(),
    username: USER.username,
    password_hash: await hashPassword(USER.password),
    disabled: false,
    created_at: Math.floor(Date.now() / 1000),
  });
  await store.createClient({
    client_id: CLIENT.client_id,
    kind: 'preregistered',
    client_name: 'Two resources app',
    redirect_uris: [CLIENT.redirect_uri],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    created_at: Math.floor(Date.now() / 1000),
  });

  return {
    issuer,
    resources,
    /** An access token minted by the AS through sign-in, consent and PKCE, for `resource`. */
    async mint(resource: string, scope: string): Promise<string> {
      const flow = await authorize({
        issuer,
        clientId: CLIENT.client_id,
        redirectUri: CLIENT.redirect_uri,
        ...USER,
        scope,
        resource,
      });
      const code = flow.params.code;
      if (!code) throw new Error(`no code: ${JSON.stringify(flow.params)}`);
      const token = await tokenRequest(issuer, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: CLIENT.redirect_uri,
        client_id: CLIENT.client_id,
        code_verifier: flow.verifier,
        resource,
      });
      if (token.status !== 200) throw new Error(`token: ${token.status} ${JSON.stringify(token.body)}`);
      return token.body.access_token as string;
    },
    async close() {
      await closeServer(http);
      await mcp.close();
      await billing.close();
      await as.close();
      await store.close();
      await temp.remove();
    },
  };
}
