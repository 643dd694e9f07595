import type { AuthorizationServer } from '@gatehouse/server';

/** The largest MCP request body read (the MCP SDK's own default). */
const MCP_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Serves a guarded MCP server (`guard.wrap(...)`) at `path` of the authorization server's own
 * HTTP layer, with its RFC 9728 metadata at the path-inserted (§3.1) and, unless told otherwise,
 * the root well-known address.
 * Streamable HTTP uses POST, GET (the SSE stream) and DELETE (ending a session).
 */
export function mountMcpServer(
  as: AuthorizationServer,
  path: string,
  fetch: (request: Request) => Promise<Response>,
  options: { rootMetadata?: boolean } = {},
): void {
  const handle = (request: Request) => fetch(request);
  as.mount(path, { POST: handle, GET: handle, DELETE: handle }, { maxBodyBytes: MCP_MAX_BODY_BYTES });
  const metadata = { GET: handle };
  as.mount(`/.well-known/oauth-protected-resource${path}`, metadata, { cors: true });
  // The root form answers clients that look there first; one server per host may own it.
  if (options.rootMetadata !== false)
    as.mount('/.well-known/oauth-protected-resource', metadata, { cors: true });
}
