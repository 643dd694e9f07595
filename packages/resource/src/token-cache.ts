import { hash } from 'node:crypto';

/**
 * A bounded cache of verification results keyed by SHA-256 of the token, so that a repeated token
 * costs a hash and a map lookup instead of a signature check, and the token itself is not kept
 * in memory as a map key. Entries live until their own expiry; when full, the oldest entry goes.
 */
export class TokenCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAtMs: number }>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { maxEntries: number; now: () => number }) {
    this.#maxEntries = options.maxEntries;
    this.#now = options.now;
  }

  static key(token: string): string {
    // One-shot `hash` skips the Hash object that `createHash` builds on every call.
    return hash('sha256', token, 'base64url');
  }

  get(token: string): V | undefined {
    const key = TokenCache.key(token);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(token: string, value: V, expiresAtMs: number): void {
    if (this.#maxEntries <= 0 || expiresAtMs <= this.#now()) return;
    const key = TokenCache.key(token);
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) this.#evict();
    this.#entries.set(key, { value, expiresAtMs });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries first; if none had expired, the oldest insertion. */
  #evict(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAtMs <= now) this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }
}
