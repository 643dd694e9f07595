import type { MiddlewareHandler } from 'hono';
import type { Guard } from '../guard.ts';
import type { AuthInfo } from '../verified-token.ts';

/**
 * Hono middleware: serves the protected-resource metadata, answers challenges, and otherwise
 * makes the caller available as `c.get('auth')`. The raw request stays unread for the next handler.
 *
 * @example app.use('*', honoGuard(guard)); app.all('/mcp', (c) => mcp.fetch(c.req.raw, { authInfo: c.get('auth') }));
 */
export function honoGuard(guard: Guard): MiddlewareHandler<{ Variables: { auth: AuthInfo } }> {
  return async (c, next) => {
    const served = guard.serveMetadata(c.req.raw);
    if (served) return served;
    const result = await guard.check(c.req.raw);
    if (result instanceof Response) return result;
    c.set('auth', result.auth);
    await next();
  };
}
