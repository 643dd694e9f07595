import { narrowScopes, type RevocationEntry, type RevocationSource } from '@gatehouse/core';

/**
 * The revoked grants and tokens a guard knows of, and the grants narrowed since their tokens were
 * issued. Each entry is kept only until `exp`, the latest expiry of any token it covers, so the
 * set stays as small as the number of live revoked tokens.
 */
export class RevocationSet implements RevocationSource {
  readonly #grants = new Map<string, number>();
  readonly #tokens = new Map<string, number>();
  /** Narrowed grants: the cap (every narrowing applied, see `narrowScopes`) and its expiry. */
  readonly #narrowed = new Map<string, { scope: string[]; exp: number }>();
  readonly #now: () => number;
  #nextPruneMs = 0;

  constructor(options: { now: () => number }) {
    this.#now = options.now;
  }

  add(entry: RevocationEntry): void {
    if ('scope' in entry) {
      this.#narrow(entry);
      return;
    }
    const [map, id] = 'gid' in entry ? [this.#grants, entry.gid] : [this.#tokens, entry.jti];
    if (typeof id !== 'string' || typeof entry.exp !== 'number') return;
    map.set(id, Math.max(entry.exp, map.get(id) ?? 0));
  }

  /** Forgets everything (a full list from the feed replaces what we had). */
  clear(): void {
    this.#grants.clear();
    this.#tokens.clear();
    this.#narrowed.clear();
  }

  isRevoked(claims: { jti: string; gid?: string }): boolean {
    this.#pruneNowAndThen();
    return this.#tokens.has(claims.jti) || (claims.gid !== undefined && this.#grants.has(claims.gid));
  }

  narrowedScope(gid: string): readonly string[] | undefined {
    this.#pruneNowAndThen();
    return this.#narrowed.get(gid)?.scope;
  }

  get size(): number {
    return this.#grants.size + this.#tokens.size + this.#narrowed.size;
  }

  /** Caps compose: a later narrowing of the same grant only narrows further. */
  #narrow(entry: { gid: string; scope: string; exp: number }): void {
    const { gid, scope, exp } = entry;
    if (typeof gid !== 'string' || typeof scope !== 'string' || typeof exp !== 'number') return;
    const cap = scope.split(' ').filter(Boolean);
    const known = this.#narrowed.get(gid);
    this.#narrowed.set(
      gid,
      known ? { scope: narrowScopes(known.scope, cap), exp: Math.max(known.exp, exp) } : { scope: cap, exp },
    );
  }

  /** Drops entries whose tokens have all expired; runs at most once a minute. */
  #pruneNowAndThen(): void {
    const nowMs = this.#now();
    if (nowMs < this.#nextPruneMs) return;
    this.#nextPruneMs = nowMs + 60_000;
    const nowSec = nowMs / 1000;
    for (const map of [this.#grants, this.#tokens])
      for (const [id, exp] of map) if (exp < nowSec) map.delete(id);
    for (const [gid, { exp }] of this.#narrowed) if (exp < nowSec) this.#narrowed.delete(gid);
  }
}
