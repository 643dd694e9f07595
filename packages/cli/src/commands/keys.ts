import { parseArgs } from 'node:util';
import { keyStatus, rotateSigningKeys } from '@gatehouse/server';
import { auditAdmin, formatTime, nowSeconds } from '../admin.ts';
import { openDataFolder } from '../data.ts';
import { DATA_OPTIONS, printJson, UsageError } from '../output.ts';

export const USAGE = `Usage: gatehouse keys list [--json]
       gatehouse keys rotate [--json]
       (each also takes --data DIR and --store URL)

The access-token signing keys. rotate publishes a new key at once, which signs from 5 minutes
later; the old key stays published until every token it signed has expired. Private keys stay
encrypted at rest and are never printed.

  --json          print JSON
${DATA_OPTIONS}`;

/**
 * `gatehouse keys …`: the access-token signing keys. `rotate` publishes a new key at once, which
 * signs from 5 minutes later (every server and cached JWKS has it by then); the old key signs
 * until that moment and stays published until every token it signed has expired. Private keys
 * stay encrypted at rest and are never printed.
 */
export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { data: { type: 'string' }, store: { type: 'string' }, json: { type: 'boolean' } },
  });
  const [verb] = positionals;
  if (verb !== 'list' && verb !== 'rotate') throw new UsageError(USAGE);
  const data = await openDataFolder(values);
  try {
    const now = nowSeconds();
    if (verb === 'rotate') {
      const { created, retired } = await rotateSigningKeys(data.store, data.secrets, now);
      await auditAdmin(data.store, {
        type: 'admin.keys_rotated',
        detail: { kid: created.kid, active_from: created.active_from, retired: retired.map((k) => k.kid) },
      });
      if (values.json) {
        printJson({
          kid: created.kid,
          active_from: created.active_from,
          retired: retired.map(({ kid, retired_at, expires_at }) => ({ kid, retired_at, expires_at })),
        });
        return 0;
      }
      console.log(`New key ${created.kid}: published now, signs from ${formatTime(created.active_from)}.`);
      for (const k of retired) {
        console.log(
          `Key ${k.kid}: signs until ${formatTime(k.retired_at)}, published until ${formatTime(k.expires_at)}.`,
        );
      }
      return 0;
    }
    const keys = (await data.store.listSigningKeys()).map((k) => ({
      kid: k.kid,
      alg: k.alg,
      status: keyStatus(k, now),
      created_at: k.created_at,
      active_from: k.active_from,
      retired_at: k.retired_at,
      expires_at: k.expires_at,
    }));
    if (values.json) printJson(keys);
    else if (keys.length === 0) console.log('No keys yet: the server creates the first one when it starts.');
    else {
      for (const k of keys) {
        console.log(
          [
            k.kid,
            k.alg,
            k.status,
            `signs from ${formatTime(k.active_from)}`,
            `until ${formatTime(k.retired_at)}`,
            `published until ${formatTime(k.expires_at)}`,
          ].join('\t'),
        );
      }
    }
    return 0;
  } finally {
    await data.store.close();
  }
}
