/**
 * What the admin overview shows, computed from one aggregate query over the audit trail
 * (`Store.countAuditEvents`): tokens issued, the gateway's calls per server and per tool, refusals
 * and their reasons, refresh-token reuse detections and sign-in failures, per time bucket.
 */
import type { AuditCount } from '../store/types.ts';
import type { CategoryBar, TimeBucket } from './charts.ts';

export interface OverviewPeriod {
  /** The `?days=` value. */
  days: number;
  bucketSeconds: number;
  label: string;
}

/** The periods an admin may choose (`?days=`), an allow-list: hourly bars for a day, daily after. */
export const OVERVIEW_PERIODS: ReadonlyMap<string, OverviewPeriod> = new Map([
  ['1', { days: 1, bucketSeconds: 3_600, label: 'Last 24 hours' }],
  ['7', { days: 7, bucketSeconds: 21_600, label: 'Last 7 days' }],
  ['30', { days: 30, bucketSeconds: 86_400, label: 'Last 30 days' }],
]);
export const DEFAULT_PERIOD = '7';

/** The period `?days=` names, or the default one for anything else. */
export function overviewPeriod(days: string | null): OverviewPeriod {
  return (OVERVIEW_PERIODS.get(days ?? '') ?? OVERVIEW_PERIODS.get(DEFAULT_PERIOD)) as OverviewPeriod;
}

/**
 * The period's time window, ending with the bucket that holds `now`, so that bars fall on whole
 * hours (or days, UTC) and the current bucket is the last one.
 */
export function overviewWindow(period: OverviewPeriod, now: number): { from: number; to: number } {
  const to = (Math.floor(now / period.bucketSeconds) + 1) * period.bucketSeconds;
  return { from: to - period.days * 86_400, to };
}

/** The audit event types the overview counts (names as the server and the gateway write them). */
export const EVENT = {
  tokenIssued: 'token.issued',
  tokenRefreshed: 'token.refreshed',
  call: 'mcp.call',
  reuse: 'refresh.reuse_detected',
  loginFailed: 'login.failed',
  loginRateLimited: 'login.rate_limited',
} as const;
export const OVERVIEW_TYPES: readonly string[] = Object.values(EVENT);

export interface Overview {
  tokens: TimeBucket[];
  tokensIssued: number;
  tokensRefreshed: number;
  calls: TimeBucket[];
  callsPerServer: CategoryBar[];
  callsPerTool: CategoryBar[];
  refusals: TimeBucket[];
  refusalReasons: CategoryBar[];
  reuse: TimeBucket[];
  signInFailures: TimeBucket[];
  badCredentials: number;
  rateLimited: number;
}

/** How a denied gateway call reads in the reasons chart: the guard's 403 names the missing scope. */
export function refusalReason(count: Pick<AuditCount, 'server' | 'name'>): string {
  return `403 insufficient scope: ${count.server ?? '?'} · ${count.name ?? '?'}`;
}

/** Folds the aggregate rows into the overview's series; every bucket of the window is present. */
export function summariseOverview(
  counts: readonly AuditCount[],
  window: { from: number; to: number },
  bucketSeconds: number,
): Overview {
  const slots = Math.round((window.to - window.from) / bucketSeconds);
  const series = () =>
    Array.from({ length: slots }, (_, i) => ({ start: window.from + i * bucketSeconds, count: 0 }));
  const add = (target: TimeBucket[], c: AuditCount) => {
    const slot = target[Math.floor((c.bucket - window.from) / bucketSeconds)];
    if (slot) slot.count += c.count;
  };
  const tally = (target: Map<string, number>, key: string, n: number) =>
    target.set(key, (target.get(key) ?? 0) + n);
  const bars = (m: Map<string, number>): CategoryBar[] => [...m].map(([label, count]) => ({ label, count }));

  const overview: Overview = {
    tokens: series(),
    tokensIssued: 0,
    tokensRefreshed: 0,
    calls: series(),
    callsPerServer: [],
    callsPerTool: [],
    refusals: series(),
    refusalReasons: [],
    reuse: series(),
    signInFailures: series(),
    badCredentials: 0,
    rateLimited: 0,
  };
  const perServer = new Map<string, number>();
  const perTool = new Map<string, number>();
  const reasons = new Map<string, number>();
  for (const c of counts) {
    switch (c.type) {
      case EVENT.tokenIssued:
      case EVENT.tokenRefreshed:
        add(overview.tokens, c);
        if (c.type === EVENT.tokenIssued) overview.tokensIssued += c.count;
        else overview.tokensRefreshed += c.count;
        break;
      case EVENT.call:
        add(overview.calls, c);
        tally(perServer, c.server ?? '?', c.count);
        tally(perTool, `${c.server ?? '?'} · ${c.name ?? '?'}`, c.count);
        if (c.outcome === 'denied') {
          add(overview.refusals, c);
          tally(reasons, refusalReason(c), c.count);
        }
        break;
      case EVENT.reuse:
        add(overview.reuse, c);
        break;
      case EVENT.loginFailed:
      case EVENT.loginRateLimited:
        add(overview.signInFailures, c);
        if (c.type === EVENT.loginFailed) overview.badCredentials += c.count;
        else overview.rateLimited += c.count;
        break;
    }
  }
  overview.callsPerServer = bars(perServer);
  overview.callsPerTool = bars(perTool);
  overview.refusalReasons = bars(reasons);
  return overview;
}
