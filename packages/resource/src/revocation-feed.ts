import type { RevocationFeedResponse, RevocationSource } from '@gatehouse/core';
import { RevocationSet } from './revocation-set.ts';

export interface RevocationFeedOptions {
  /** `GET` endpoint of the feed, e.g. `http://127.0.0.1:8080/oauth/revocations`. */
  url: string;
  fetch: typeof fetch;
  now: () => number;
  /** How long the AS may hold a request open when nothing is new (it allows at most 25 s). */
  waitSeconds?: number;
  /** Delays between retries after a failure, growing to the last value. */
  retryDelaysMs?: readonly number[];
  /** Reports feed failures (never contains tokens). */
  onError?: (error: unknown) => void;
}

/**
 * Follows the authorization server's revocation feed by long polling: one request stays open
 * and the AS answers it as soon as a grant or token is revoked, so a guard in another process
 * learns of it within a round trip (well under a second), while an idle feed costs one request
 * per `waitSeconds`. The first request fetches the full current list; later ones ask only for
 * what is newer than the cursor. Entries expire with the tokens they cover.
 *
 * Design of the feed (served by the AS): `GET <url>?after=<cursor>&wait=<s>` →
 * `200 {"cursor": "…", "revoked": [{"gid"|"jti": "…", "exp": <unix s>}]}`.
 */
export class RevocationFeed implements RevocationSource {
  readonly #options: RevocationFeedOptions;
  readonly #set: RevocationSet;
  readonly #abort = new AbortController();
  #cursor: string | undefined;
  #started = false;
  #synced: Promise<void>;
  #resolveSynced!: () => void;
  #waiters: Array<() => void> = [];
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: RevocationFeedOptions) {
    this.#options = options;
    this.#set = new RevocationSet({ now: options.now });
    this.#synced = new Promise((resolve) => {
      this.#resolveSynced = resolve;
    });
  }

  isRevoked(claims: { jti: string; gid?: string }): boolean {
    return this.#set.isRevoked(claims);
  }

  /** Starts following the feed (idempotent). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#loop();
  }

  /**
   * Resolves once the first answer (the full list) has arrived, or the first attempt failed, so
   * that a guard never serves a request before it knows what was revoked while it was down.
   */
  ready(): Promise<void> {
    this.start();
    return this.#synced;
  }

  /** Resolves after the next answer from the feed has been applied (for tests and health checks). */
  nextUpdate(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops polling and aborts the open request. */
  close(): void {
    this.#abort.abort();
    clearTimeout(this.#retryTimer);
  }

  get cursor(): string | undefined {
    return this.#cursor;
  }

  async #loop(): Promise<void> {
    const delays = this.#options.retryDelaysMs ?? [250, 1000, 2000, 5000, 10_000];
    let failures = 0;
    while (!this.#abort.signal.aborted) {
      try {
        await this.#poll();
        failures = 0;
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        this.#options.onError?.(err);
        this.#resolveSynced();
        const delay = delays[Math.min(failures, delays.length - 1)] ?? 1000;
        failures++;
        await new Promise<void>((resolve) => {
          this.#retryTimer = setTimeout(resolve, delay);
          this.#retryTimer.unref?.();
        });
      }
    }
  }

  async #poll(): Promise<void> {
    const url = new URL(this.#options.url);
    if (this.#cursor !== undefined) {
      url.searchParams.set('after', this.#cursor);
      url.searchParams.set('wait', String(this.#options.waitSeconds ?? 25));
    }
    const response = await this.#options.fetch(url, {
      headers: { accept: 'application/json' },
      signal: this.#abort.signal,
      redirect: 'error',
    });
    if (!response.ok) {
      await response.body?.cancel();
      // The AS no longer knows our cursor (restarted, or it expired): start over with the full list.
      if (response.status === 400 || response.status === 410) this.#cursor = undefined;
      throw new Error(`revocation feed answered ${response.status}`);
    }
    const body = (await response.json()) as RevocationFeedResponse;
    if (typeof body?.cursor !== 'string' || !Array.isArray(body.revoked)) {
      throw new Error('revocation feed answered with an unexpected body');
    }
    // Without `after` the AS sends its full current list, which replaces ours.
    if (this.#cursor === undefined) this.#set.clear();
    for (const entry of body.revoked) this.#set.add(entry);
    this.#cursor = body.cursor;
    this.#resolveSynced();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
