/**
 * `GET /admin`: the overview. Charts over a chosen period (`?days=1|7|30`) of tokens issued, the
 * gateway's calls per server and per tool, refusals and their reasons, refresh-token reuse
 * detections and sign-in failures, from one aggregate query over the audit trail; the counts of
 * users and clients from the store.
 */

import type { Context } from '../context.ts';
import { html } from '../interaction/html.ts';
import type { ClientKind } from '../store/types.ts';
import { adminCsrf, requireAdmin } from './auth.ts';
import { barChart, timeChart } from './charts.ts';
import { adminPage } from './layout.ts';
import {
  OVERVIEW_PERIODS,
  OVERVIEW_TYPES,
  overviewPeriod,
  overviewWindow,
  summariseOverview,
} from './overview-data.ts';
import { ADMIN_HOME } from './return-path.ts';

const CLIENT_KINDS: ReadonlyArray<readonly [ClientKind, string]> = [
  ['preregistered', 'pre-registered'],
  ['cimd', 'by metadata document (CIMD)'],
  ['dcr', 'dynamically registered (DCR)'],
];

export async function showOverview(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const csrf = adminCsrf(ctx, request);
  const days = new URL(request.url).searchParams.get('days');
  const period = overviewPeriod(days);
  const window = overviewWindow(period, ctx.now());
  // Events written behind the request (the audit log's batches) count too.
  await ctx.flushAudit();
  const [counts, users, ...clients] = await Promise.all([
    ctx.store.countAuditEvents({ types: OVERVIEW_TYPES, ...window, bucketSeconds: period.bucketSeconds }),
    ctx.store.listUsers(),
    ...CLIENT_KINDS.map(([kind]) => ctx.store.countClients(kind)),
  ]);
  const o = summariseOverview(counts, window, period.bucketSeconds);
  const { bucketSeconds } = period;

  const periods = [...OVERVIEW_PERIODS].map(
    ([value, p]) =>
      html`<li><a href="${ADMIN_HOME}?days=${value}"${p === period ? html` aria-current="true"` : ''}>${p.label}</a></li>`,
  );
  const totalClients = clients.reduce((sum, n) => sum + n, 0);
  const clientParts = CLIENT_KINDS.map(([, label], i) => `${clients[i]} ${label}`).join(', ');
  const body = html`<nav aria-label="Period"><ul class="periods">${periods}</ul></nav>
<p>${users.length} ${users.length === 1 ? 'user' : 'users'} (${users.filter((u) => u.disabled).length} disabled); ${totalClients} ${totalClients === 1 ? 'client' : 'clients'}: ${clientParts}.</p>
${timeChart({
  id: 'tokens',
  title: 'Tokens issued',
  noun: 'token',
  bucketSeconds,
  buckets: o.tokens,
  detail: `${o.tokensIssued} from a new authorization or client credentials, ${o.tokensRefreshed} by refresh.`,
})}
${timeChart({ id: 'calls', title: 'Gateway calls', noun: 'call', bucketSeconds, buckets: o.calls })}
${barChart({ id: 'calls-per-server', title: 'Calls per server', noun: 'call', category: 'Server', bars: o.callsPerServer })}
${barChart({
  id: 'calls-per-tool',
  title: 'Calls per tool, resource or prompt',
  noun: 'call',
  category: 'Server · name',
  bars: o.callsPerTool,
})}
${timeChart({ id: 'refusals', title: 'Refused calls', noun: 'refusal', bucketSeconds, buckets: o.refusals })}
${barChart({ id: 'refusal-reasons', title: 'Refusals by reason', noun: 'refusal', category: 'Reason', bars: o.refusalReasons })}
${timeChart({
  id: 'reuse',
  title: 'Refresh-token reuse detections',
  noun: 'reuse detection',
  bucketSeconds,
  buckets: o.reuse,
  detail: 'Each one revoked the whole grant.',
})}
${timeChart({
  id: 'sign-in-failures',
  title: 'Sign-in failures',
  noun: 'sign-in failure',
  bucketSeconds,
  buckets: o.signInFailures,
  detail: `${o.badCredentials} with a wrong username or password, ${o.rateLimited} refused by the rate limit.`,
})}`;
  return adminPage(ctx, {
    title: `Overview: ${period.label.toLowerCase()}`,
    active: 'overview',
    body,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
  });
}
