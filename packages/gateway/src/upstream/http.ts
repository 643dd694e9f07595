import { DeadlineExceededError, withDeadline } from '@gatehouse/core';
import { type FetchLike, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { McpServerConfig } from '../config/schema.ts';

/**
 * The SDK's Streamable HTTP client transport to `config.url`, sending the configured static
 * headers and nothing of the MCP client's (its token never leaves the gateway); with `bearer` (the
 * user's upstream token, for a server with a `connection`), `Authorization: Bearer` on every
 * request. Redirects are not followed at all: fetch would carry the configured headers (an API
 * key, the token) to wherever the upstream points. Every HTTP request has a deadline.
 */
export function httpTransport(
  config: McpServerConfig,
  timeoutMs: number,
  fetchImpl: FetchLike = fetch,
  bearer?: string,
) {
  if (config.url === undefined) throw new TypeError('An HTTP upstream needs a url.');
  const headers = new Headers(config.headers);
  if (bearer !== undefined) headers.set('authorization', `Bearer ${bearer}`);
  return new StreamableHTTPClientTransport(new URL(config.url), {
    requestInit: { headers },
    fetch: deadlineFetch(timeoutMs, fetchImpl),
  });
}

/**
 * `fetch` with a deadline on every request. A POST (a message and its answer, possibly an event
 * stream) or DELETE gets `timeoutMs` for the whole exchange, body included. A GET opens the
 * standing event stream on which the upstream sends notifications; it lives as long as the
 * connection, so only its opening has the deadline.
 */
export function deadlineFetch(timeoutMs: number, base: FetchLike = fetch): FetchLike {
  return async (url, options) => {
    // The upstream URL is configured exactly; a redirect is refused rather than followed with its headers.
    const init: RequestInit = { ...options, redirect: 'error' };
    const caller = init.signal ?? undefined;
    if ((init.method ?? 'GET').toUpperCase() !== 'GET') {
      return withDeadline(url, { timeoutMs, signal: caller }, (signal) => base(url, { ...init, signal }));
    }
    const opening = new AbortController();
    const signal = caller ? AbortSignal.any([caller, opening.signal]) : opening.signal;
    const timer = setTimeout(
      () => opening.abort(new DeadlineExceededError(pathOf(url), timeoutMs)),
      timeoutMs,
    );
    try {
      return await base(url, { ...init, signal });
    } catch (error) {
      if (opening.signal.aborted) throw opening.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Origin and path, for messages: a query may carry a key. */
function pathOf(url: string | URL): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}
