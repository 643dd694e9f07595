import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { deactivateUser, hashPassword } from '@gatehouse/server';
import { auditAdmin, nowSeconds, revokeGrantAsAdmin } from '../admin.ts';
import { openDataFolder } from '../data.ts';
import { DATA_OPTIONS, printJson, readStdin, UsageError } from '../output.ts';

export const USAGE = `Usage: gatehouse users add NAME --password-stdin [--admin]
       gatehouse users list [--json]
       gatehouse users disable NAME | enable NAME | remove NAME
       gatehouse users promote NAME | demote NAME
       (each also takes --data DIR and --store URL)

The accounts that sign in on the authorization server's pages. Disabling or removing a user ends
their sessions and revokes every grant they made; running servers refuse their tokens within a
second. An administrator (--admin, promote) may also use the admin console at /admin; demote
takes that away.

  --password-stdin  read the password (8 characters or more) from standard input
  --admin           the new user is an administrator
  --json            print JSON
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
    },
  });
  const [verb, name] = positionals;
  const data = await openDataFolder(values);
  try {
    if (verb === 'list') {
      const users = await data.store.listUsers();
      if (values.json) printJson(users.map(({ password_hash: _, ...u }) => u));
      else
        for (const u of users) {
          console.log(`${u.username}${u.admin ? ' (admin)' : ''}${u.disabled ? ' (disabled)' : ''}`);
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
    const outcome = OUTCOMES.get(verb as string);
    if (!outcome) throw new UsageError(USAGE);
    if (verb === 'enable') await data.store.setUserDisabled(user.id, false);
    else if (verb === 'promote' || verb === 'demote')
      await data.store.setUserAdmin(user.id, verb === 'promote');
    else {
      // A disabled or removed user keeps nothing (running servers refuse its tokens within a second).
      await deactivateUser(data.store, user, verb === 'remove' ? 'removed' : 'disabled', async (id) => {
        await revokeGrantAsAdmin(data.store, id, `user ${outcome}`);
      });
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
