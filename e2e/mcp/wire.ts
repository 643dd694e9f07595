/**
 * The scopes of a request or token, sorted, without `offline_access`: the SDKs add that one by
 * themselves when the AS offers it and the client may refresh (SEP-835), which is not what is tested.
 */
export const scopes = (value: string | null | undefined): string[] =>
  (value ?? '')
    .split(' ')
    .filter((s) => s && s !== 'offline_access')
    .sort();

/** The text of a `tools/call` result's first content block. */
export const text = (result: unknown): string =>
  (result as { content: { text: string }[] }).content[0]?.text ?? '';

/** A bare `tools/list` POST with a bearer token, as any HTTP client would send it: the guard's answer. */
export function rawToolsList(mcpUrl: URL | string, token: string): Promise<Response> {
  return fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
}

/** RFC 7009 revocation by a public client. */
export function revoke(issuer: string, clientId: string, token: string): Promise<Response> {
  return fetch(`${issuer}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: clientId }),
  });
}
