import { parseArgs } from 'node:util';
import { auditAdmin, formatTime } from '../admin.ts';
import { CONFIG_OPTION } from '../config-file.ts';
import { openDataFolder } from '../data.ts';
import { DATA_OPTIONS, printJson, UsageError } from '../output.ts';
import { adminVault } from '../vault.ts';

export const USAGE = `Usage: gatehouse connections list [--user NAME] [--json]
       gatehouse connections remove NAME CONNECTION [--config FILE]
       (each also takes --data DIR and --store URL)

Users' connections to upstream APIs (the token vault): who connected what, and its state. Token
values are never shown. \`remove\` deletes a user's connection; with the configuration file (which
names the upstream's revocation endpoint and client) it first revokes the upstream tokens.

  --user NAME     only this user's connections
  --json          print JSON
${CONFIG_OPTION}
${DATA_OPTIONS}`;

/** `gatehouse connections list|remove`: the vault as an administrator sees it, never a token. */
export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      store: { type: 'string' },
      config: { type: 'string' },
      user: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [verb, name, provider] = positionals;
  if (verb !== 'list' && verb !== 'remove') throw new UsageError(USAGE);
  const data = await openDataFolder(values);
  try {
    const users = new Map((await data.store.listUsers()).map((u) => [u.id, u.username]));
    if (verb === 'list') {
      const userId = values.user === undefined ? undefined : await userIdOf(data.store, values.user);
      const rows = (await data.store.listConnections(userId)).map((c) => ({
        user: users.get(c.user_id) ?? c.user_id,
        connection: c.provider,
        state: c.state,
        connected_at: c.created_at,
        updated_at: c.updated_at,
        ...(c.expires_at === undefined ? {} : { expires_at: c.expires_at }),
      }));
      if (values.json) printJson(rows);
      else if (rows.length === 0) console.log('No connections.');
      else {
        for (const r of rows) {
          console.log(`${r.user}  ${r.connection}  ${r.state}  updated ${formatTime(r.updated_at)}`);
        }
      }
      return 0;
    }
    if (!name || !provider) throw new UsageError(USAGE);
    const userId = await userIdOf(data.store, name);
    const vault = adminVault(data, values.config);
    if (!(await vault.remove(userId, provider))) {
      throw new UsageError(
        `${name} has no connection "${provider}". See: gatehouse connections list --user ${name}`,
      );
    }
    await auditAdmin(data.store, {
      type: 'connection.removed',
      user_id: userId,
      detail: { connection: provider },
    });
    const revoked = vault.has(provider) ? ' (upstream tokens revoked where the provider supports it)' : '';
    console.log(`Removed ${name}'s connection ${provider}${revoked}.`);
    if (!vault.has(provider)) {
      console.log(
        'Its upstream tokens were not revoked: pass --config with the file that configures it to do so.',
      );
    }
    return 0;
  } finally {
    await data.store.close();
  }
}

async function userIdOf(
  store: { getUserByName(name: string): Promise<{ id: string } | undefined> },
  name: string,
) {
  const user = await store.getUserByName(name);
  if (!user) throw new UsageError(`No user named "${name}". See: gatehouse users list`);
  return user.id;
}
