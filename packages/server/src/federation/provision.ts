import { randomUUID } from 'node:crypto';
import { randomToken } from '@gatehouse/core';
import type { Context } from '../context.ts';
import type { UserRecord } from '../store/types.ts';
import type { UpstreamPerson } from './admission.ts';
import type { IdentityProvider } from './config.ts';

/** A user name from what the provider calls the person, in the characters the CLI accepts. */
function baseName(provider: IdentityProvider, person: UpstreamPerson): string {
  const raw = person.name ?? person.email?.split('@')[0] ?? `${provider.id}-${person.subject}`;
  const clean = raw
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48);
  return clean || `${provider.id}-user`;
}

/** The first free name among `base`, `base-2`, … `base-9`, else `base-<random>`. */
async function freeName(ctx: Context, base: string): Promise<string> {
  for (let i = 1; i < 10; i++) {
    const name = i === 1 ? base : `${base}-${i}`;
    if (!(await ctx.store.getUserByName(name))) return name;
  }
  return `${base}-${randomToken(6).toLowerCase()}`;
}

/**
 * The Gatehouse user of an upstream identity: the one linked to (provider, subject), or a new
 * user provisioned with it (no password: such a user signs in through the provider only). The
 * email never decides: a second provider's account with the same address is another user until an
 * administrator links it (`gatehouse users link`). Of concurrent first sign-ins one provisions and
 * the others find its user.
 */
export async function userForIdentity(
  ctx: Context,
  provider: IdentityProvider,
  person: UpstreamPerson,
): Promise<{ user: UserRecord | undefined; created: boolean }> {
  const linked = await ctx.store.getIdentity(provider.id, person.subject);
  if (linked) return { user: await ctx.store.getUser(linked.user_id), created: false };
  const now = ctx.now();
  const user: UserRecord = {
    id: randomUUID(),
    username: await freeName(ctx, baseName(provider, person)),
    // Not a scrypt hash, so no password ever matches it.
    password_hash: '',
    disabled: false,
    created_at: now,
  };
  const identity = {
    provider: provider.id,
    subject: person.subject,
    user_id: user.id,
    email: person.email,
    created_at: now,
  };
  if (await ctx.store.createUserWithIdentity(user, identity)) return { user, created: true };
  const winner = await ctx.store.getIdentity(provider.id, person.subject);
  return { user: winner && (await ctx.store.getUser(winner.user_id)), created: false };
}
