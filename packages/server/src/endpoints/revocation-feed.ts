import { jsonResponse, type RevocationFeedResponse } from '@gatehouse/core';
import type { Context } from '../context.ts';

const MAX_WAIT_SECONDS = 25;

/**
 * `GET /oauth/revocations?after=<cursor>&wait=<seconds>`: the feed guards in other processes
 * follow to learn of revocations within a second. A long poll: with nothing newer than `after`,
 * the request is held until a revocation happens or `wait` runs out. Entries carry only grant ids
 * and token ids (never tokens) and disappear once the tokens they cover have expired. A narrowed
 * grant is an entry `{ gid, scope, exp }`: its tokens carry at most `scope` from now on, learned
 * with the same latency as a revocation.
 */
export async function revocationFeedEndpoint(ctx: Context, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const after = Math.max(0, Number.parseInt(url.searchParams.get('after') ?? '0', 10) || 0);
  const wait = Math.min(MAX_WAIT_SECONDS, Math.max(0, Number(url.searchParams.get('wait') ?? '0') || 0));
  if (wait > 0) {
    await ctx.revocations.sync();
    await ctx.revocations.waitForNewer(after, wait * 1000, request.signal);
    // The guard went away (closed, or shut down with the server): nobody reads the answer, and the
    // store may be closing, so it is not asked.
    if (request.signal.aborted) return new Response(null, { status: 204 });
  }
  const { cursor, revoked } = await ctx.revocations.entriesAfter(after);
  const body: RevocationFeedResponse = { cursor: String(cursor), revoked };
  return jsonResponse(body);
}
