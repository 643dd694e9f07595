import type { RevocationEntry, RevocationSource } from '@gatehouse/core';

/**
 * The revoked grants and tokens a guard knows of. Each entry is kept only until `exp`, the latest
 * expiry of any token it covers, so the set stays as small as the number of live revoked tokens.
 */
export class RevocationSet implements RevocationSource {
  readonly #grants = new Map<string, number>();
  readonly #tokens = new Map<string, number>();
  readonly #now: () => number;
  #nextPruneMs = 0;

  constructor(options: { now: () => number }) {
    this.#now = options.now;
  }

  add(entry: RevocationEntry): void {
    const [map, id] = 'gid' in entry ? [this.#grants, entry.gid] : [this.#tokens, entry.jti];
    if (typeof id !== 'string' || typeof entry.exp !== 'number') return;
    map.set(id, Math.max(entry.exp, map.get(id) ?? 0));
  }

  /** Forgets everything (a full list from the feed replaces what we had). */
  clear(): void {
    this.#grants.clear();
    this.#tokens.clear();
  }

  isRevoked(claims: { jti: string; gid?: string }): boolean {
    this.#pruneNowAndThen();
    return this.#tokens.has(claims.jti) || (claims.gid !== undefined && this.#grants.has(claims.gid));
  }

  get size(): number {
    return this.#grants.size + this.#tokens.size;
  }

  /** Drops entries whose tokens have all expired; runs at most once a minute. */
  #pruneNowAndThen(): void {
    const nowMs = this.#now();
    if (nowMs < this.#nextPruneMs) return;
    this.#nextPruneMs = nowMs + 60_000;
    const nowSec = nowMs / 1000;
    for (const map of [this.#grants, this.#tokens])
      for (const [id, exp] of map) if (exp < nowSec) map.delete(id);
  }
}
