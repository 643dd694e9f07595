import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { connectMcp, MemoryTokenStore, OAuthClient } from '@gatehouse/client';
import type { Client } from '@modelcontextprotocol/client';
import { formInteraction } from '../client/helpers.ts';
import { authorize, tokenRequest } from '../helpers/agent.ts';
import { addClient, addUser, gatehouse, type RunningGatehouse, serve } from '../helpers/gatehouse-cli.ts';
import { tempDir } from '../helpers/temp.ts';

/** A person who signs in at the consent pages; `id` is their `sub` (what `${user}` becomes). */
export interface SceneUser {
  username: string;
  password: string;
  id: string;
}

/** One line of `gatehouse audit tail --json`. */
export interface AuditLine {
  type: string;
  user_id?: string;
  client_id?: string;
  detail?: Record<string, unknown>;
}

export interface GatewayScene {
  server: RunningGatehouse;
  issuer: string;
  dataDir: string;
  configFile: string;
  /** A folder of the scene's own (e.g. the per-user homes of the filesystem server). */
  scratch: string;
  users: Map<string, SceneUser>;
  /** `<issuer>/mcp/<name>` */
  url(server: string): string;
  /**
   * Gatehouse's own client (@gatehouse/client) for `server` as `username`, signed in through the
   * consent forms (approving what is shown), on a memory store; `scope` narrows the first request
   * (later 403s step up). `mcp` is the official SDK v2 client on the client's fetch.
   */
  connect(
    username: string,
    server: string,
    scope?: string,
  ): Promise<{ oauth: OAuthClient; mcp: Client; consentPages: string[] }>;
  /** An access token for `server` with `scope`, minted through sign-in, consent and PKCE. */
  token(username: string, server: string, scope: string): Promise<string>;
  /** Every event of the audit log, through `gatehouse audit tail --json`. */
  audit(): Promise<{ events: AuditLine[]; output: string }>;
  /** Processes `gatehouse serve` started whose command line matches `pattern`. */
  upstreamPids(pattern: RegExp): Promise<number[]>;
}

export interface SceneOptions {
  users: string[];
  /** The configuration file, given the scene's folders and users (ids known by then). */
  config(ctx: { scratch: string; users: Map<string, SceneUser> }): Promise<object> | object;
  /** Skip everything (e.g. Chromium or PostgreSQL is missing). */
  skip?: string | false;
  /** Added to `gatehouse serve`'s environment (what the file's `${env:NAME}` references read). */
  env?: NodeJS.ProcessEnv;
}

const REDIRECT_URI = 'http://127.0.0.1:9/callback';

/**
 * A test file's hooks: users made with the CLI, a configuration file, `gatehouse serve --config`
 * as a child process (real HTTP on 127.0.0.1, real SQLite, the upstreams as real processes it
 * starts). Set up before the file's tests, torn down after; the fields are set once `before` ran.
 */
export function gatewayScene(options: SceneOptions): GatewayScene {
  const scene = {} as GatewayScene;
  const cleanups: (() => Promise<void>)[] = [];
  const clients = new Map<string, Promise<{ client_id: string }>>();
  before(async () => {
    if (options.skip) return;
    const data = await tempDir('gatehouse-gateway-e2e-');
    const scratch = await tempDir('gatehouse-gateway-scratch-');
    cleanups.push(data.remove, scratch.remove);
    const users = new Map<string, SceneUser>();
    for (const username of options.users) {
      const password = `${username}-password-123`;
      await addUser(data.dir, username, password);
      users.set(username, { username, password, id: '' });
    }
    const listed = await gatehouse(['users', 'list', '--json', '--data', data.dir]);
    for (const u of JSON.parse(listed.stdout) as { id: string; username: string }[]) {
      const user = users.get(u.username);
      if (user) user.id = u.id;
    }
    const configFile = join(data.dir, 'gatehouse.json');
    await writeFile(
      configFile,
      JSON.stringify(await options.config({ scratch: scratch.dir, users }), null, 2),
    );
    const server = await serve(data.dir, {
      config: configFile,
      timeoutMs: 30_000,
      ...(options.env ? { env: options.env } : {}),
    });
    cleanups.unshift(async () => {
      await server.stop();
    });
    Object.assign(scene, {
      server,
      issuer: server.issuer,
      dataDir: data.dir,
      configFile,
      scratch: scratch.dir,
      users,
    });
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  const userOf = (username: string) => {
    const user = scene.users.get(username);
    if (!user) throw new Error(`no user ${username} in the scene`);
    return user;
  };
  scene.url = (server) => `${scene.issuer}/mcp/${server}`;
  scene.connect = async (username, server, scope) => {
    const consentPages: string[] = [];
    const oauth = new OAuthClient({
      resource: scene.url(server),
      store: new MemoryTokenStore(),
      interaction: formInteraction(userOf(username), undefined, (page) => consentPages.push(page)),
    });
    if (scope !== undefined) await oauth.authorize({ challenge: { scope } });
    const mcp = await connectMcp(oauth, { clientInfo: { name: 'gateway-e2e', version: '1.0.0' } });
    return { oauth, mcp, consentPages };
  };
  scene.token = async (username, server, scope) => {
    let registered = clients.get(scene.dataDir);
    if (!registered) {
      registered = addClient(scene.dataDir, { name: 'Gateway e2e app', redirectUris: [REDIRECT_URI] });
      clients.set(scene.dataDir, registered);
    }
    const { client_id } = await registered;
    const resource = scene.url(server);
    const flow = await authorize({
      issuer: scene.issuer,
      clientId: client_id,
      redirectUri: REDIRECT_URI,
      ...userOf(username),
      scope,
      resource,
    });
    const code = flow.params.code;
    if (!code) throw new Error(`no code: ${JSON.stringify(flow.params)}`);
    const token = await tokenRequest(scene.issuer, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id,
      code_verifier: flow.verifier,
      resource,
    });
    if (token.status !== 200) throw new Error(`token: ${token.status} ${JSON.stringify(token.body)}`);
    return token.body.access_token as string;
  };
  scene.audit = async () => {
    const result = await gatehouse(['audit', 'tail', '--json', '-n', '100000', '--data', scene.dataDir]);
    if (result.code !== 0) throw new Error(`audit tail exited ${result.code}: ${result.stderr}`);
    const events = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditLine);
    return { events, output: result.stdout };
  };
  scene.upstreamPids = (pattern) => childProcesses(scene.server.child.pid as number, pattern);
  return scene;
}

/** Children of `parent` (from /proc) whose command line matches `pattern`. */
async function childProcesses(parent: number, pattern: RegExp): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (pattern.test(cmdline)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** A per-user home for the filesystem server: `<scratch>/homes/<user id>` with one file in it. */
export async function makeHome(
  scratch: string,
  user: SceneUser,
  file: string,
  content: string,
): Promise<string> {
  const home = join(scratch, 'homes', user.id);
  await mkdir(home, { recursive: true });
  await writeFile(join(home, file), content);
  return home;
}

/** The text of a `tools/call` result's first content block. */
export const text = (result: unknown): string =>
  (result as { content: { text?: string }[] }).content[0]?.text ?? '';

/** A bare `tools/call` POST with a bearer token, as any HTTP client would send it: the guard's answer. */
export function rawToolCall(
  url: string,
  token: string,
  name: string,
  args: Record<string, unknown>,
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
}
