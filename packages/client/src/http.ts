import { DEFAULT_DEADLINE_MS, DeadlineExceededError, isLoopbackHttpUrl, withDeadline } from '@gatehouse/core';
import { ClientError, type ClientErrorCode } from './errors.ts';

/** The shape of `globalThis.fetch`, so callers can inject their own (tests, proxies, the MCP SDK). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * How the client reaches other parties: the fetch to use, the deadline of each request (default
 * 5 s, body included) and the caller's signal, when the API it called took one.
 */
export interface Outbound {
  fetch: FetchLike;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Runs one request and the reading of its body under the deadline and the caller's signal. A
 * passed deadline becomes `ClientError(code)` whose message names the URL and the deadline; a
 * caller's abort rejects with the caller's reason, as `fetch` does.
 */
export async function withClientDeadline<T>(
  io: Outbound,
  url: string | URL,
  code: ClientErrorCode,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeoutMs = io.timeoutMs ?? DEFAULT_DEADLINE_MS;
  try {
    return await withDeadline(url, { timeoutMs, signal: io.signal }, work);
  } catch (err) {
    if (err instanceof DeadlineExceededError) throw new ClientError(code, err.message, { cause: err });
    throw err;
  }
}

/**
 * OAuth 2.1 §1.5: endpoints must use TLS. Loopback (the same hosts as loopback redirects,
 * `@gatehouse/core` redirect-uri.ts) is allowed so development servers and tests work without certificates.
 */
export function requireSecureUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ClientError('insecure_url', `${what} is not a valid URL`);
  }
  if (url.protocol === 'https:' || isLoopbackHttpUrl(url)) return url;
  throw new ClientError('insecure_url', `${what} must use https: ${url.origin}`);
}

/**
 * GETs a JSON document; `undefined` when the server says 4xx or cannot be reached (the caller
 * tries the next location). A server that does not answer within the deadline is not skipped
 * silently: that throws `ClientError('discovery_failed')` naming the URL and the deadline.
 */
export async function getJsonOrUndefined(io: Outbound, url: string): Promise<unknown> {
  return withClientDeadline(io, url, 'discovery_failed', async (signal) => {
    let res: Response;
    try {
      res = await io.fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal });
    } catch (err) {
      if (signal.aborted) throw err;
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    try {
      return await res.json();
    } catch (err) {
      if (signal.aborted) throw err;
      return undefined;
    }
  });
}

/**
 * POSTs to an OAuth endpoint under the deadline and the caller's signal, and reads its JSON
 * answer (undefined when the body is not JSON). An unreachable endpoint is `ClientError(code)`
 * saying `unreachable`; the status is the caller's to judge.
 */
export async function postForJson(
  io: Outbound,
  url: string,
  init: { headers: HeadersInit; body: BodyInit },
  code: ClientErrorCode,
  unreachable: string,
): Promise<{ res: Response; json: Record<string, unknown> | undefined }> {
  return withClientDeadline(io, url, code, async (signal) => {
    let res: Response;
    try {
      res = await io.fetch(url, { method: 'POST', ...init, redirect: 'error', signal });
    } catch (cause) {
      if (signal.aborted) throw cause;
      throw new ClientError(code, unreachable, { cause });
    }
    const json = (await res.json().catch((err: unknown) => {
      if (signal.aborted) throw err;
      return undefined;
    })) as Record<string, unknown> | undefined;
    return { res, json };
  });
}

/** A form-encoded POST body (RFC 6749 §4.1.3 and friends). */
export function formBody(params: Record<string, string | undefined>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) body.set(k, v);
  return body;
}
