import { createHash } from 'node:crypto';
import type { AuthInfo } from '@gatehouse/resource';

/**
 * Cancellation of 2025-era clients. Served statelessly, such a client cancels with a separate
 * POST of `notifications/cancelled` naming its request id, which no server instance handling it
 * knows. (A 2026-07-28 client ends its request's HTTP exchange instead: the request's own signal.)
 * The bridge therefore keeps its requests in flight by (token, request id): ids are chosen by
 * each client, so only the holder of the same token can cancel a request.
 */
export class InFlightRequests {
  readonly #byKey = new Map<string, AbortController>();

  /** A signal aborted when the client cancels request `id`; call `done()` when it has ended. */
  track(auth: AuthInfo, id: string | number): { signal: AbortSignal; done(): void } {
    const key = keyOf(auth, id);
    const controller = new AbortController();
    this.#byKey.set(key, controller);
    return {
      signal: controller.signal,
      done: () => {
        if (this.#byKey.get(key) === controller) this.#byKey.delete(key);
      },
    };
  }

  /** Cancels request `id` of the token's holder, if it is in flight. */
  cancel(auth: AuthInfo, id: unknown, reason: unknown): void {
    if (typeof id !== 'string' && typeof id !== 'number') return;
    this.#byKey.get(keyOf(auth, id))?.abort(typeof reason === 'string' ? reason : 'cancelled by the client');
  }
}

/** The token's id (or a digest of it: the token itself is not kept) and the request id. */
function keyOf(auth: AuthInfo, id: string | number): string {
  const token = auth.tokenId ?? createHash('sha256').update(auth.token).digest('base64url');
  return `${token}\u0000${typeof id}:${id}`;
}
