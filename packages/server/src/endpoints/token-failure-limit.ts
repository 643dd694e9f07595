import { type OAuthError, tooManyRequests } from '@gatehouse/core';
import type { Context } from '../context.ts';

const WINDOW = 15 * 60;

/**
 * Slows down guessing at the token endpoint (client secrets, codes, refresh tokens) without
 * costing successful requests anything: only failures are counted, in the store so the count is
 * shared by every instance, and an address over the limit is then refused from memory until its
 * window ends. Counted per address, so an attacker cannot lock a client out.
 */
export class TokenFailureLimit {
  readonly #ctx: Context;
  readonly #blockedUntil = new Map<string, number>();

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /** Throws 429 for an address that is over the limit. */
  check(address: string): void {
    const until = this.#blockedUntil.get(address);
    if (until === undefined) return;
    const now = this.#ctx.now();
    if (until <= now) this.#blockedUntil.delete(address);
    else throw this.#refusal(until - now);
  }

  /** Counts a failed request; throws 429 once the address has failed too often. */
  async fail(address: string): Promise<void> {
    const now = this.#ctx.now();
    const count = await this.#ctx.store.hitRateLimit(`token-failure:${address}`, WINDOW, now);
    if (count > this.#ctx.config.tokenFailuresPer15Minutes) {
      const until = now - (now % WINDOW) + WINDOW;
      this.#blockedUntil.set(address, until);
      throw this.#refusal(until - now);
    }
  }

  #refusal(retryAfter: number): OAuthError {
    return tooManyRequests('Too many failed token requests from this address; try again later.', retryAfter);
  }
}
