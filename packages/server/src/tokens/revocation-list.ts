import { narrowScopes, parseScope, type RevocationEntry, type RevocationSource } from '@gatehouse/core';
import type { Store } from '../store/types.ts';

/**
 * The revocations this process knows, kept in memory so that checking a token costs two map
 * lookups. Revocations made here are added at once; those made by other instances sharing the
 * store arrive through `sync()`. Entries are dropped when every token they cover has expired, so
 * the set stays as small as the number of revocations in one access-token lifetime. Narrowed
 * grants travel the same way: `narrowedScope(gid)` caps the tokens issued before the narrowing.
 */
export class RevocationList implements RevocationSource {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #grants = new Map<string, number>();
  readonly #tokens = new Map<string, number>();
  /** Narrowed grants: the cap (every narrowing applied, see `narrowScopes`) and its expiry. */
  readonly #narrowed = new Map<string, { scope: string[]; exp: number }>();
  readonly #waiters = new Set<() => void>();
  #cursor = 0;

  constructor(store: Store, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  get cursor(): number {
    return this.#cursor;
  }

  isRevoked(claims: { jti: string; gid?: string }): boolean {
    return this.#tokens.has(claims.jti) || (claims.gid !== undefined && this.#grants.has(claims.gid));
  }

  narrowedScope(gid: string): readonly string[] | undefined {
    return this.#narrowed.get(gid)?.scope;
  }

  /** Reads entries newer than what this process has seen from the store, and wakes long polls. */
  async sync(): Promise<void> {
    const now = this.#now();
    const rows = await this.#store.listRevocations(this.#cursor, now);
    for (const row of rows) {
      if (row.grant_id && row.scope !== undefined) this.#narrow(row.grant_id, row.scope, row.expires_at);
      else if (row.grant_id) this.#grants.set(row.grant_id, row.expires_at);
      if (row.jti) this.#tokens.set(row.jti, row.expires_at);
      this.#cursor = Math.max(this.#cursor, row.seq);
    }
    this.#expire(now);
    if (rows.length) for (const wake of [...this.#waiters]) wake();
  }

  /** Entries with a sequence number above `after`, in the feed's wire form. */
  async entriesAfter(after: number): Promise<{ cursor: number; revoked: RevocationEntry[] }> {
    const rows = await this.#store.listRevocations(after, this.#now());
    const revoked: RevocationEntry[] = rows.map((r) => {
      if (r.grant_id && r.scope !== undefined) return { gid: r.grant_id, scope: r.scope, exp: r.expires_at };
      return r.grant_id
        ? { gid: r.grant_id, exp: r.expires_at }
        : { jti: r.jti as string, exp: r.expires_at };
    });
    return { cursor: rows.at(-1)?.seq ?? Math.max(after, this.#cursor), revoked };
  }

  /** Resolves when a revocation newer than `after` is known here, or after `ms`. */
  waitForNewer(after: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#cursor > after) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }

  /** Caps compose: a later narrowing of the same grant only narrows further. */
  #narrow(gid: string, scope: string, exp: number): void {
    const cap = parseScope(scope);
    const known = this.#narrowed.get(gid);
    this.#narrowed.set(
      gid,
      known ? { scope: narrowScopes(known.scope, cap), exp: Math.max(known.exp, exp) } : { scope: cap, exp },
    );
  }

  #expire(now: number): void {
    for (const map of [this.#grants, this.#tokens]) {
      for (const [key, exp] of map) if (exp <= now) map.delete(key);
    }
    for (const [gid, { exp }] of this.#narrowed) if (exp <= now) this.#narrowed.delete(gid);
  }
}
