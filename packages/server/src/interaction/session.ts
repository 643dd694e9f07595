import { randomToken } from '@gatehouse/core';
import type { Context } from '../context.ts';
import type { UserRecord } from '../store/types.ts';

/** The signed-in user, if the session cookie names a live session of an enabled user. */
export async function currentUser(ctx: Context, request: Request): Promise<UserRecord | undefined> {
  const id = ctx.cookies.read(request, ctx.cookies.names.session);
  if (!id) return undefined;
  const session = await ctx.store.getSession(ctx.secrets.hash(id), ctx.now());
  if (!session) return undefined;
  const user = await ctx.store.getUser(session.user_id);
  return user && !user.disabled ? user : undefined;
}

/** Starts a session; returns its Set-Cookie header. The store keeps only the id's HMAC. */
export async function startSession(ctx: Context, user: UserRecord): Promise<string> {
  const id = randomToken(32);
  const now = ctx.now();
  await ctx.store.createSession({
    id_hash: ctx.secrets.hash(id),
    user_id: user.id,
    created_at: now,
    expires_at: now + ctx.config.sessionTtl,
  });
  return ctx.cookies.serialize(ctx.cookies.names.session, id, ctx.config.sessionTtl);
}
