import type { Context } from '../context.ts';
import { auditFilters, auditQueryOf } from './audit-filter.ts';
import { requireAdmin } from './auth.ts';

/** Events read from the store per round trip while streaming an export. */
const BATCH = 1000;

/**
 * `GET /admin/audit.jsonl`: the audit trail under the page's filters as JSON Lines (one event per
 * line, newest first, https://jsonlines.org), streamed a batch at a time so a long trail never sits
 * in memory. Events never hold token values, so the file carries none.
 */
export async function exportAudit(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const query = await auditQueryOf(ctx, auditFilters(new URL(request.url).searchParams));
  const encoder = new TextEncoder();
  let before: number | undefined;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const events = await ctx.store.queryAudit({ ...query, before, limit: BATCH });
      if (events.length < BATCH) done = true;
      before = events.at(-1)?.id;
      if (events.length)
        controller.enqueue(encoder.encode(events.map((e) => `${JSON.stringify(e)}\n`).join('')));
      if (done) controller.close();
    },
  });
  return new Response(body, {
    headers: {
      'content-type': 'application/jsonl; charset=utf-8',
      'content-disposition': 'attachment; filename="gatehouse-audit.jsonl"',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
  });
}
