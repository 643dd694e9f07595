/** One HTTP exchange an SDK client made, as seen on the wire. */
export interface Exchange {
  method: string;
  /** Path of the URL (no query), e.g. `/oauth/token`. */
  path: string;
  status: number;
  /** `WWW-Authenticate`, when the response carried one. */
  challenge?: string;
  /** The `Authorization` header sent, if any. */
  authorization?: string;
}

/**
 * A `fetch` that records every request an SDK transport makes (MCP, discovery, registration, token)
 * and passes it on unchanged, so a test can check the order of the protocol steps.
 */
export function recordingFetch(): { fetch: typeof fetch; log: Exchange[]; lines(): string[] } {
  const log: Exchange[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const response = await fetch(request);
    const challenge = response.headers.get('www-authenticate');
    const authorization = request.headers.get('authorization');
    log.push({
      method: request.method,
      path: new URL(request.url).pathname,
      status: response.status,
      ...(challenge ? { challenge } : {}),
      ...(authorization ? { authorization } : {}),
    });
    return response;
  };
  return { fetch: recording, log, lines: () => log.map((e) => `${e.method} ${e.path} ${e.status}`) };
}
