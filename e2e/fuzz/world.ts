import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addClient, addUser, type RunningGatehouse, serve } from '../helpers/gatehouse-cli.ts';
import { tempDir } from '../helpers/temp.ts';

/**
 * What the fuzz suite fuzzes: a real `gatehouse serve` child process on 127.0.0.1, port 0, with a
 * fresh data folder, one user, a DCR public client, a DCR confidential client, a pre-registered
 * confidential client and one open interaction. Generators draw valid-looking values from here so
 * that requests get past the first checks; invariants know every secret that must never come back.
 */
export interface World {
  issuer: string;
  port: number;
  /** Host header value for requests. */
  host: string;
  username: string;
  /** Client ids that exist: the DCR public and confidential ones, the pre-registered one. */
  clientIds: string[];
  /** [client_id, client_secret] pairs that authenticate. */
  credentials: [string, string][];
  redirectUris: string[];
  /** `grant_types_supported` from the server's metadata (RFC 8414 §2). */
  grantTypesSupported: Set<string>;
  /** The id of an interaction (sign-in) started by /oauth/authorize. */
  interactionId: string;
  /** Name → value of every secret that must never appear in a response (unless the request carried it). */
  secrets: Map<string, string>;
  /** Paths that must not appear in a response: the data folder and the repository. */
  paths: string[];
  stop(): Promise<void>;
}

const CALLBACK = 'http://127.0.0.1:53682/callback';
/** The checkout's absolute path, without the trailing slash: file paths must never reach a client. */
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

async function registerClient(issuer: string, metadata: Record<string, unknown>) {
  const response = await fetch(`${issuer}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 201)
    throw new Error(`registration gave ${response.status}: ${await response.text()}`);
  return (await response.json()) as { client_id: string; client_secret?: string };
}

/** The interaction id /oauth/authorize redirects a browser to. */
async function startInteraction(issuer: string, clientId: string): Promise<string> {
  const url = new URL(`${issuer}/oauth/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CALLBACK,
    state: 'fuzz',
    code_challenge: randomBytes(32).toString('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  const id = /^\/interaction\/([\w-]+)/.exec(response.headers.get('location') ?? '')?.[1];
  if (!id) throw new Error(`authorize gave ${response.status}, no interaction: ${await response.text()}`);
  return id;
}

export async function startWorld(): Promise<World> {
  const data = await tempDir('gatehouse-fuzz-');
  const username = 'fuzz-user';
  const password = randomBytes(18).toString('base64url');
  await addUser(data.dir, username, password);
  const confidential = await addClient(data.dir, {
    name: 'Fuzz confidential',
    redirectUris: [CALLBACK],
    confidential: true,
    scope: 'tools:list tools:execute',
  });
  let server: RunningGatehouse | undefined;
  try {
    server = await serve(data.dir);
    const issuer = server.issuer;
    const dcrPublic = await registerClient(issuer, {
      client_name: 'Fuzz public',
      redirect_uris: [CALLBACK],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    const dcrConfidential = await registerClient(issuer, {
      client_name: 'Fuzz DCR confidential',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
    });
    const interactionId = await startInteraction(issuer, dcrPublic.client_id);
    const metadata = await fetch(`${issuer}/.well-known/oauth-authorization-server`, {
      signal: AbortSignal.timeout(10_000),
    });
    const { grant_types_supported: grantTypes } = (await metadata.json()) as {
      grant_types_supported?: string[];
    };
    const credentials: [string, string][] = [];
    const secrets = new Map<string, string>([
      ['master secret (secret.key)', (await readFile(join(data.dir, 'secret.key'), 'utf8')).trim()],
      ['user password', password],
    ]);
    for (const [name, client] of [
      ['pre-registered client secret', confidential],
      ['DCR client secret', dcrConfidential],
    ] as const) {
      if (!client.client_secret) throw new Error(`${name}: none was issued`);
      credentials.push([client.client_id, client.client_secret]);
      secrets.set(name, client.client_secret);
    }
    const running = server;
    return {
      issuer,
      port: Number(new URL(issuer).port),
      host: new URL(issuer).host,
      username,
      clientIds: [dcrPublic.client_id, dcrConfidential.client_id, confidential.client_id],
      credentials,
      redirectUris: [CALLBACK],
      grantTypesSupported: new Set(grantTypes ?? ['authorization_code']),
      interactionId,
      secrets,
      paths: [data.dir, REPOSITORY],
      async stop() {
        await running.stop();
        await data.remove();
      },
    };
  } catch (err) {
    await server?.stop();
    await data.remove();
    throw err;
  }
}
