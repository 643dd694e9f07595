/**
 * Deadlines for requests to other parties (an authorization server, a resource, a metadata
 * document). A peer that accepts the connection and never answers must not hold a caller, a
 * guard or a refresh forever: every outbound request runs under a deadline, combined with the
 * caller's own `AbortSignal` when it has one, and the deadline covers reading the body too.
 */

/** The deadline of one request to another party when the caller sets none. */
export const DEFAULT_DEADLINE_MS = 5000;

/**
 * The other party did not answer (headers and body) within the deadline. The message names the
 * URL without its query (which could carry a cursor or worse) and the deadline; `code` is stable.
 */
export class DeadlineExceededError extends Error {
  readonly code = 'ERR_DEADLINE_EXCEEDED';
  /** Origin and path of the request that timed out. */
  readonly url: string;
  readonly timeoutMs: number;

  constructor(url: string, timeoutMs: number) {
    super(`${url} did not answer within ${timeoutMs} ms`);
    this.name = 'DeadlineExceededError';
    this.url = url;
    this.timeoutMs = timeoutMs;
  }
}

/** `url` without query and fragment, for messages. */
function withoutQuery(url: string | URL): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return String(url).split(/[?#]/)[0] ?? '';
  }
}

/**
 * Settles like `promise`, unless `signal` aborts first: then rejects with `reason()`. For waiting
 * on shared work (a single-flight refresh) that one impatient caller must not cancel for others.
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  reason: () => unknown = () => signal?.reason,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    // Nobody waits for `promise` through us: its own failure must not go unhandled.
    promise.catch(() => {});
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * Runs `work` (a fetch and the reading of its body) under a deadline and the caller's signal,
 * whichever ends first. `work` receives the combined signal to hand to `fetch`; should an injected
 * fetch ignore it, the deadline still holds, since the wait itself is abandoned. A deadline that
 * passes rejects with {@link DeadlineExceededError}; a caller's abort rejects with its reason.
 *
 * @example
 * const res = await withDeadline(url, { timeoutMs: 5000, signal }, async (signal) => {
 *   const response = await fetch(url, { signal });
 *   return response.json();
 * });
 */
export async function withDeadline<T>(
  url: string | URL,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const reason = () =>
    options.signal?.aborted
      ? options.signal.reason
      : new DeadlineExceededError(withoutQuery(url), options.timeoutMs);
  try {
    return await untilAborted(work(signal), signal, reason);
  } catch (err) {
    // fetch rejects with the signal's reason (a DOMException); name the deadline instead.
    if (signal.aborted) throw reason();
    throw err;
  }
}
