import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { AuditEvent, Store } from '@gatehouse/server';
import { formatTime } from '../admin.ts';
import { openDataFolder } from '../data.ts';
import { DATA_OPTIONS, UsageError } from '../output.ts';

export const USAGE = `Usage: gatehouse audit tail [-n 20] [--json] [--follow] [--data DIR] [--store URL]

Prints the last events of the audit log, oldest first: sign-ins, consents, token issuance,
refreshes, reuse detection, revocations, admin actions. Events never hold tokens or secrets.

  -n, --lines N   how many events (default 20)
  -f, --follow    keep printing new events until interrupted
  --json          one JSON object per line
${DATA_OPTIONS}`;
const PAGE = 1000;
const FOLLOW_POLL_MS = 500;

/**
 * `gatehouse audit tail`: the last events of the audit log (sign-ins, consents, token issuance,
 * refreshes, reuse detection, revocations, admin actions), oldest first; `--follow` keeps printing
 * new ones until interrupted. `--json` prints one JSON object per line. Events never hold tokens
 * or secrets, so the output is safe to share.
 */
export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      store: { type: 'string' },
      json: { type: 'boolean' },
      follow: { type: 'boolean', short: 'f' },
      lines: { type: 'string', short: 'n', default: '20' },
    },
  });
  const count = Number(values.lines);
  if (positionals[0] !== 'tail' || !Number.isInteger(count) || count < 0) throw new UsageError(USAGE);
  const data = await openDataFolder(values);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const names = new Map((await data.store.listUsers()).map((u) => [u.id, u.username]));
    const print = (e: AuditEvent) =>
      process.stdout.write(`${values.json ? JSON.stringify(e) : line(e, names)}\n`);
    const { last, cursor } = await lastEvents(data.store, count);
    for (const event of last) print(event);
    if (!values.follow) return 0;
    let after = cursor;
    while (!stop.signal.aborted) {
      const events = await data.store.listAudit({ after, limit: PAGE });
      for (const event of events) {
        if (event.user_id && !names.has(event.user_id)) {
          for (const u of await data.store.listUsers()) names.set(u.id, u.username);
        }
        print(event);
        after = event.id ?? after;
      }
      if (events.length < PAGE)
        await sleep(FOLLOW_POLL_MS, undefined, { signal: stop.signal }).catch(() => {});
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await data.store.close();
  }
}

/** The last `count` events and the id of the newest, reading the log forward page by page. */
async function lastEvents(store: Store, count: number): Promise<{ last: AuditEvent[]; cursor: number }> {
  let last: AuditEvent[] = [];
  let cursor = 0;
  for (;;) {
    const page = await store.listAudit({ after: cursor, limit: PAGE });
    if (page.length === 0) break;
    last.push(...page);
    if (last.length > count) last = last.slice(last.length - count);
    cursor = page.at(-1)?.id ?? cursor;
    if (page.length < PAGE) break;
  }
  return { last, cursor };
}

function line(e: AuditEvent, names: Map<string, string>): string {
  const parts = [formatTime(e.at), e.type];
  if (e.actor) parts.push(`actor=${names.get(e.actor) ?? e.actor}`);
  if (e.user_id) parts.push(`user=${names.get(e.user_id) ?? e.user_id}`);
  if (e.client_id) parts.push(`client=${e.client_id}`);
  if (e.grant_id) parts.push(`grant=${e.grant_id}`);
  if (e.detail && Object.keys(e.detail).length) parts.push(JSON.stringify(e.detail));
  return parts.join('  ');
}
