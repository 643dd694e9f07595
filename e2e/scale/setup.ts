/** What both scale tests need: a fresh schema, a cluster on it, a user set and the clients. */

import type { TestDatabase } from '../../packages/store-postgres/src/testing.ts';
import { basicAuth } from '../helpers/agent.ts';
import { tempDir } from '../helpers/temp.ts';
import { type Cluster, startCluster } from './cluster.ts';

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';
export const USERS = ['ada', 'grace', 'edsger'].map((username) => ({
  username,
  password: `${username}-long-password`,
}));

export interface Deployment {
  cluster: Cluster;
  schema: string;
  clientId: string;
  /** `Authorization: Basic …` of a confidential client allowed to introspect. */
  introspector: string;
  stop(): Promise<void>;
}

export async function deploy(db: TestDatabase, size: number): Promise<Deployment> {
  const schema = db.newSchema();
  const temp = await tempDir('gatehouse-scale-');
  const store = `${db.url}${db.url.includes('?') ? '&' : '?'}schema=${schema}`;
  let cluster: Cluster;
  try {
    cluster = await startCluster({ store, dir: temp.dir, size });
  } catch (err) {
    await temp.remove();
    throw err;
  }
  const ok = async (args: string[], input?: string) => {
    const r = await cluster.admin(args, input);
    if (r.code !== 0) throw new Error(`gatehouse ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    // Administered with the CLI on the same store as the running instances.
    for (const u of USERS) await ok(['users', 'add', u.username, '--password-stdin'], `${u.password}\n`);
    const app = JSON.parse(
      await ok(['clients', 'add', '--name', 'Scale App', '--redirect-uri', REDIRECT_URI, '--json']),
    ) as { client_id: string };
    const rs = JSON.parse(
      await ok(['clients', 'add', '--name', 'Introspector', '--confidential', '--resource-server', '--json']),
    ) as {
      client_id: string;
      client_secret: string;
    };
    return {
      cluster,
      schema,
      clientId: app.client_id,
      introspector: basicAuth(rs.client_id, rs.client_secret).authorization as string,
      async stop() {
        await cluster.stop();
        await temp.remove();
      },
    };
  } catch (err) {
    await cluster.stop();
    await temp.remove();
    throw err;
  }
}

/**
 * Refresh-token chains as the store holds them: for each grant, the chain must be linear (every
 * token has at most one successor, every successor one predecessor) with one unrotated tip.
 */
export async function chainViolations(db: TestDatabase, schema: string): Promise<string[]> {
  const q = async (sql: string) => (await db.admin.query(sql)).rows as Record<string, unknown>[];
  const problems: string[] = [];
  for (const row of await q(
    `SELECT grant_id, count(*) AS n FROM ${schema}.refresh_tokens WHERE rotated_at IS NULL GROUP BY grant_id HAVING count(*) > 1`,
  )) {
    problems.push(`grant ${row.grant_id} has ${row.n} live (unrotated) refresh tokens`);
  }
  for (const row of await q(
    `SELECT successor_hash, count(*) AS n FROM ${schema}.refresh_tokens WHERE successor_hash IS NOT NULL
     GROUP BY successor_hash HAVING count(*) > 1`,
  )) {
    problems.push(`a refresh token is the successor of ${row.n} tokens`);
  }
  for (const row of await q(
    `SELECT grant_id, count(*) AS n, count(rotated_at) AS rotated FROM ${schema}.refresh_tokens
     GROUP BY grant_id HAVING count(*) - count(rotated_at) <> 1`,
  )) {
    problems.push(
      `grant ${row.grant_id}: ${row.n} tokens, ${row.rotated} rotated (a chain has exactly one tip)`,
    );
  }
  for (const row of await q(
    `SELECT p.grant_id FROM ${schema}.refresh_tokens p LEFT JOIN ${schema}.refresh_tokens s ON s.token_hash = p.successor_hash
     WHERE p.successor_hash IS NOT NULL AND (s.token_hash IS NULL OR s.grant_id <> p.grant_id)`,
  )) {
    problems.push(`grant ${row.grant_id}: a rotated token's successor is missing or in another grant`);
  }
  return problems;
}
