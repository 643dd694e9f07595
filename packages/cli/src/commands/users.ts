import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  deactivateUser,
  hashPassword,
  type IdentityRecord,
  type Store,
  type UserRecord,
} from '@gatehouse/server';
import { auditAdmin, nowSeconds, revokeGrantAsAdmin } from '../admin.ts';
import { CONFIG_OPTION } from '../config-file.ts';
import { openDataFolder } from '../data.ts';
import { DATA_OPTIONS, printJson, readStdin, UsageError } from '../output.ts';
import { adminVault } from '../vault.ts';

export const USAGE = `Usage: gatehouse users add NAME --password-stdin [--admin]
       gatehouse users list [--json]
       gatehouse users disable NAME | enable NAME | remove NAME [--config FILE]
       gatehouse users promote NAME | demote NAME
       gatehouse users link NAME --provider ID --subject SUB | unlink NAME --provider ID --subject SUB
       (each also takes --data DIR and --store URL)

The accounts that sign in on the authorization server's pages. Disabling or removing a user ends
their sessions and revokes every grant they made; running servers refuse their tokens within a
second. An administrator (--admin, promote) may also use the admin console at /admin; demote
takes that away. A user who signs in with an identity provider is found by the provider's id
and the subject it gives them (never by email); link gives an existing user such an identity,
unlink takes it away. list shows each user's identities. remove also removes the user's
upstream API connections, revoking their tokens at the provider with the configuration file.

  --password-stdin  read the password (8 characters or more) from standard input
  --admin           the new user is an administrator
  --provider ID     an identity provider's id (identityProviders in the configuration file)
  --subject SUB     the subject that provider gives the person (its "sub", or a user id)
  --json            print JSON
${CONFIG_OPTION}
${DATA_OPTIONS}`;

/** `gatehouse users …`: local user accounts for the sign-in page. */
/** What each state-changing verb does, by name: a Map, so `toString` names nothing. */
const OUTCOMES = new Map([
  ['disable', 'disabled'],
  ['enable', 'enabled'],
  ['remove', 'removed'],
  ['promote', 'promoted'],
  ['demote', 'demoted'],
]);

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      store: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      admin: { type: 'boolean' },
      json: { type: 'boolean' },
      provider: { type: 'string' },
      subject: { type: 'string' },
      config: { type: 'string' },
    },
  });
  const [verb, name] = positionals;
  const data = await openDataFolder(values);
  try {
    if (verb === 'list') {
      const users = await data.store.listUsers();
      const identities = new Map<string, IdentityRecord[]>();
      for (const i of await data.store.listIdentities())
        identities.set(i.user_id, [...(identities.get(i.user_id) ?? []), i]);
      const linked = (id: string) =>
        (identities.get(id) ?? []).map((i) => ({ provider: i.provider, subject: i.subject, email: i.email }));
      if (values.json)
        printJson(users.map(({ password_hash: _, ...u }) => ({ ...u, identities: linked(u.id) })));
      else
        for (const u of users) {
          const ids = linked(u.id).map((i) => `${i.provider}:${i.subject}`);
          console.log(
            `${u.username}${u.admin ? ' (admin)' : ''}${u.disabled ? ' (disabled)' : ''}${ids.length ? `  ${ids.join(' ')}` : ''}`,
          );
        }
      return 0;
    }
    if (!name) throw new UsageError(USAGE);
    if (verb === 'add') {
      if (!values['password-stdin']) {
        throw new UsageError(
          `Pass the password on standard input: echo "$PASSWORD" | gatehouse users add ${name} --password-stdin`,
        );
      }
      const password = (await readStdin()).replace(/\r?\n$/, '');
      if (password.length < 8) throw new UsageError('The password must have at least 8 characters.');
      if (await data.store.getUserByName(name))
        throw new UsageError(`A user named "${name}" already exists.`);
      const now = nowSeconds();
      await data.store.createUser({
        id: randomUUID(),
        username: name,
        password_hash: await hashPassword(password),
        disabled: false,
        admin: values.admin === true,
        created_at: now,
      });
      await auditAdmin(data.store, {
        type: 'admin.user_added',
        detail: { username: name, ...(values.admin ? { admin: true } : {}) },
      });
      console.log(`Added user ${name}.`);
      return 0;
    }
    const user = await data.store.getUserByName(name);
    if (!user) throw new UsageError(`No user named "${name}". See: gatehouse users list`);
    if (verb === 'link' || verb === 'unlink') return await linkIdentity(data.store, user, verb, values);
    const outcome = OUTCOMES.get(verb as string);
    if (!outcome) throw new UsageError(USAGE);
    if (verb === 'enable') await data.store.setUserDisabled(user.id, false);
    else if (verb === 'promote' || verb === 'demote')
      await data.store.setUserAdmin(user.id, verb === 'promote');
    else {
      // A disabled or removed user keeps nothing (running servers refuse its tokens within a second).
      // Read before anything changes (a configuration file that does not load stops here), and
      // only to remove: disabling needs no configuration file.
      const vault = verb === 'remove' ? adminVault(data, values.config) : undefined;
      const unrevocable = vault
        ? (await data.store.listConnections(user.id)).filter((c) => !vault.has(c.provider))
        : [];
      await deactivateUser(
        data.store,
        user,
        verb === 'remove' ? 'removed' : 'disabled',
        async (id) => {
          await revokeGrantAsAdmin(data.store, id, `user ${outcome}`);
        },
        (provider) =>
          vault ? vault.remove(user.id, provider) : data.store.deleteConnection(user.id, provider),
      );
      if (unrevocable.length > 0) {
        console.log(
          `The upstream tokens of ${unrevocable.map((c) => c.provider).join(', ')} were deleted but not revoked: pass --config with the file that configures them to revoke them too.`,
        );
      }
    }
    await auditAdmin(data.store, {
      type: `admin.user_${outcome}`,
      user_id: user.id,
      detail: { username: name },
    });
    console.log(`User ${name} ${outcome}.`);
    return 0;
  } finally {
    await data.store.close();
  }
}

/**
 * `users link|unlink NAME --provider ID --subject SUB`: gives a user an identity at a provider (an
 * existing account keeps its grants when its owner starts signing in with the provider), or takes
 * it away. An identity belongs to one user at most: linking one that is taken is refused.
 */
async function linkIdentity(
  store: Store,
  user: UserRecord,
  verb: 'link' | 'unlink',
  values: { provider?: string | undefined; subject?: string | undefined },
): Promise<number> {
  const { provider, subject } = values;
  if (!provider || !subject)
    throw new UsageError(
      `Name the identity: gatehouse users ${verb} ${user.username} --provider ID --subject SUB`,
    );
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(provider))
    throw new UsageError('--provider: expected a provider id of lower-case letters, digits and -');
  const existing = await store.getIdentity(provider, subject);
  if (verb === 'link') {
    if (existing) {
      const owner = await store.getUser(existing.user_id);
      throw new UsageError(
        `${provider}:${subject} is already linked to ${owner?.username ?? 'another user'}; unlink it first.`,
      );
    }
    await store.linkIdentity({ provider, subject, user_id: user.id, created_at: nowSeconds() });
  } else {
    if (existing?.user_id !== user.id)
      throw new UsageError(
        `${user.username} has no identity ${provider}:${subject}. See: gatehouse users list`,
      );
    await store.unlinkIdentity(provider, subject);
  }
  await auditAdmin(store, {
    type: `admin.identity_${verb}ed`,
    user_id: user.id,
    detail: { username: user.username, provider },
  });
  console.log(
    `${verb === 'link' ? 'Linked' : 'Unlinked'} ${provider}:${subject} ${verb === 'link' ? 'to' : 'from'} ${user.username}.`,
  );
  return 0;
}
