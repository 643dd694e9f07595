import {
  DEFAULT_DEADLINE_MS,
  type RevocationFeedResponse,
  type RevocationSource,
  untilAborted,
  withDeadline,
} from '@gatehouse/core';
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
  /** Deadline of the request for the full list; a long poll gets `waitSeconds` plus this. Default 5 s. */
  timeoutMs?: number;
  /**
   * How long the list may go without an answer from the AS before it counts as stale and the
   * guard stops accepting tokens; default 90 s, about three long polls. A healthy feed answers at
   * least once per long poll, so silence longer than that means revocations may be going missing,
   * and a revoked token must not stay usable for the rest of its life. Never less than one long
   * poll plus its deadline.
   */
  maxStalenessSeconds?: number;
}

/**
 * Whether the feed can vouch for its list: `syncing` until the first full list has been applied,
 * `live` while answers keep coming, `stale` when none has come for `maxStalenessSeconds`.
 */
export type RevocationFeedState = 'syncing' | 'live' | 'stale';

/**
 * Follows the authorization server's revocation feed by long polling: one request stays open
 * and the AS answers it as soon as a grant or token is revoked, so a guard in another process
 * learns of it within a round trip (well under a second), while an idle feed costs one request
 * per `waitSeconds`. The first request fetches the full current list; later ones ask only for
 * what is newer than the cursor. Entries expire with the tokens they cover.
 *
 * Design of the feed (served by the AS): `GET <url>?after=<cursor>&wait=<s>` →
 * `200 {"cursor": "…", "revoked": [{"gid"|"jti": "…", "exp": <unix s>}]}`; an entry with
 * `"gid"` and `"scope"` narrows the grant instead of revoking it.
 *
 * Every request has a deadline (a long poll: its `wait` plus `timeoutMs`) and is aborted by
 * `close()`. Fail closed: until the first full list has arrived the feed is `syncing`, and a guard
 * refuses tokens rather than accept ones revoked while it was down; `ready()` waits for that list.
 */
export class RevocationFeed implements RevocationSource {
  readonly #options: RevocationFeedOptions;
  readonly #set: RevocationSet;
  readonly #abort = new AbortController();
  readonly #timeoutMs: number;
  readonly #waitSeconds: number;
  readonly #maxStalenessMs: number;
  #cursor: string | undefined;
  #started = false;
  /** `now()` of the last answer applied; undefined until the first full list. */
  #syncedAt: number | undefined;
  #synced: Promise<void>;
  #resolveSynced!: () => void;
  #settled: Promise<void>;
  #resolveSettled!: () => void;
  #waiters: Array<() => void> = [];
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryAt = 0;

  constructor(options: RevocationFeedOptions) {
    this.#options = options;
    this.#set = new RevocationSet({ now: options.now });
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_DEADLINE_MS;
    this.#waitSeconds = options.waitSeconds ?? 25;
    this.#maxStalenessMs = Math.max(
      (options.maxStalenessSeconds ?? 90) * 1000,
      this.#waitSeconds * 1000 + this.#timeoutMs,
    );
    this.#synced = new Promise((resolve) => {
      this.#resolveSynced = resolve;
    });
    this.#settled = new Promise((resolve) => {
      this.#resolveSettled = resolve;
    });
  }

  isRevoked(claims: { jti: string; gid?: string }): boolean {
    return this.#set.isRevoked(claims);
  }

  narrowedScope(gid: string): readonly string[] | undefined {
    return this.#set.narrowedScope(gid);
  }

  /** Starts following the feed (idempotent). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#loop();
  }

  /**
   * Resolves once the first full list has been applied, however many attempts that takes: while
   * the AS is down this waits. Bound the wait with `signal` (e.g. `AbortSignal.timeout(10_000)`);
   * it then rejects with the signal's reason, as it does with an error when the feed is closed.
   */
  ready(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.start();
    const closed = this.#abort.signal;
    const signal = options.signal ? AbortSignal.any([options.signal, closed]) : closed;
    return untilAborted(this.#synced, signal, () =>
      options.signal?.aborted ? options.signal.reason : new Error('the revocation feed was closed'),
    );
  }

  /** Resolves when the first attempt has succeeded or failed (bounded by its deadline). */
  settled(): Promise<void> {
    this.start();
    return this.#settled;
  }

  /** Whether the list can be trusted now; see {@link RevocationFeedState}. */
  state(): RevocationFeedState {
    if (this.#syncedAt === undefined) return 'syncing';
    return this.#options.now() - this.#syncedAt > this.#maxStalenessMs ? 'stale' : 'live';
  }

  /** Whole seconds until the next attempt after a failure (at least 1), for `Retry-After`. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.#retryAt - this.#options.now()) / 1000));
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
        this.#resolveSettled();
        const delay = delays[Math.min(failures, delays.length - 1)] ?? 1000;
        failures++;
        this.#retryAt = this.#options.now() + delay;
        await new Promise<void>((resolve) => {
          this.#retryTimer = setTimeout(resolve, delay);
          this.#retryTimer.unref?.();
        });
      }
    }
  }

  async #poll(): Promise<void> {
    const url = new URL(this.#options.url);
    let timeoutMs = this.#timeoutMs;
    if (this.#cursor !== undefined) {
      url.searchParams.set('after', this.#cursor);
      url.searchParams.set('wait', String(this.#waitSeconds));
      timeoutMs += this.#waitSeconds * 1000;
    }
    const body = await withDeadline(url, { timeoutMs, signal: this.#abort.signal }, async (signal) => {
      const response = await this.#options.fetch(url, {
        headers: { accept: 'application/json' },
        signal,
        redirect: 'error',
      });
      if (!response.ok) {
        await response.body?.cancel();
        // The AS no longer knows our cursor (restarted, or it expired): start over with the full list.
        if (response.status === 400 || response.status === 410) this.#cursor = undefined;
        throw new Error(`revocation feed answered ${response.status}`);
      }
      return (await response.json()) as RevocationFeedResponse;
    });
    if (typeof body?.cursor !== 'string' || !Array.isArray(body.revoked)) {
      throw new Error('revocation feed answered with an unexpected body');
    }
    // Without `after` the AS sends its full current list, which replaces ours.
    if (this.#cursor === undefined) this.#set.clear();
    for (const entry of body.revoked) this.#set.add(entry);
    this.#cursor = body.cursor;
    this.#syncedAt = this.#options.now();
    this.#resolveSynced();
    this.#resolveSettled();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
