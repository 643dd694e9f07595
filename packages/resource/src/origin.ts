/**
 * `Origin` validation against DNS rebinding: a page on `evil.example` whose name was rebound to
 * 127.0.0.1 reaches a local MCP server as same-origin, but its requests still carry
 * `Origin: http://evil.example`. Requests without `Origin` come from non-browser clients and pass.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 */
export function isOriginAllowed(request: Request, allowedOrigins: ReadonlySet<string>): boolean {
  const origin = request.headers.get('origin');
  if (origin === null) return true;
  if (origin === 'null') return false;
  try {
    return allowedOrigins.has(new URL(origin).origin);
  } catch {
    return false;
  }
}

/** Normalizes configured origins (`http://localhost:3000/` → `http://localhost:3000`). */
export function normalizeOrigins(origins: readonly string[]): Set<string> {
  return new Set(origins.map((o) => new URL(o).origin));
}

/** The 403 sent to a request from a foreign origin; deliberately not an OAuth challenge. */
export function forbiddenOriginResponse(): Response {
  return new Response(JSON.stringify({ error: 'forbidden', error_description: 'Origin not allowed.' }), {
    status: 403,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}
