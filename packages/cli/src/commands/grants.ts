import { parseArgs } from 'node:util';
import type { GrantRecord } from '@gatehouse/server';
import { formatTime, revokeGrantAsAdmin } from '../admin.ts';
import { openDataFolder } from '../data.ts';
import { DATA_OPTIONS, printJson, UsageError } from '../output.ts';

export const USAGE = `Usage: gatehouse grants list [--user NAME] [--client CLIENT_ID] [--all] [--json]
       gatehouse grants revoke GRANT_ID [--reason TEXT]
       (each also takes --data DIR and --store URL)

What each user has allowed each application. A revocation takes effect in running servers
within a second: its access tokens are refused, its refresh tokens no longer work.

  --user NAME     only this user's grants (or a client id: client_credentials grants)
  --client ID     only this client's grants
  --all           include revoked grants
  --json          print JSON
  --reason TEXT   recorded in the audit log with the revocation
${DATA_OPTIONS}`;

/**
 * `gatehouse grants …`: what each user has allowed each application. `revoke` takes effect in a
 * running server (same data folder) within a second: its access tokens are refused, its refresh
 * tokens no longer work.
 */
export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      store: { type: 'string' },
      user: { type: 'string' },
      client: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      reason: { type: 'string' },
    },
  });
  const [verb, id] = positionals;
  if (verb !== 'list' && verb !== 'revoke') throw new UsageError(USAGE);
  const data = await openDataFolder(values);
  try {
    const { store } = data;
    if (verb === 'revoke') {
      if (!id) throw new UsageError(USAGE);
      const grant = await store.getGrant(id);
      if (!grant) throw new UsageError(`No grant "${id}". See: gatehouse grants list`);
      if (grant.revoked_at !== undefined) {
        console.log(`Grant ${id} was already revoked at ${formatTime(grant.revoked_at)}.`);
        return 0;
      }
      await revokeGrantAsAdmin(store, id, values.reason ?? 'revoked by an administrator');
      console.log(`Revoked grant ${id}; running servers refuse its tokens within a second.`);
      return 0;
    }

    // --user takes a username (or a subject id: client_credentials grants have the client as subject).
    let subject: string | undefined;
    if (values.user !== undefined) subject = (await store.getUserByName(values.user))?.id ?? values.user;
    const grants = await store.listGrants({
      subject,
      client_id: values.client,
      include_revoked: values.all ?? false,
    });
    const names = new Map((await store.listUsers()).map((u) => [u.id, u.username]));
    const clients = new Map((await store.listClients()).map((c) => [c.client_id, c.client_name]));
    const rows = grants.map((g: GrantRecord) => ({
      ...g,
      username: names.get(g.subject),
      client_name: clients.get(g.client_id),
    }));
    if (values.json) {
      printJson(rows);
      return 0;
    }
    if (rows.length === 0) console.log('No grants.');
    for (const g of rows) {
      console.log(
        [
          g.id,
          `${g.client_name ?? '?'} (${g.client_id})`,
          g.username ?? g.subject,
          g.scope,
          `granted ${formatTime(g.created_at)}`,
          `last used ${formatTime(g.last_used_at)}`,
          ...(g.revoked_at !== undefined ? [`REVOKED ${formatTime(g.revoked_at)}`] : []),
        ].join('\t'),
      );
    }
    return 0;
  } finally {
    await data.store.close();
  }
}
