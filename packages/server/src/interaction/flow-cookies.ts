import { createHash } from 'node:crypto';
import type { Context } from '../context.ts';

/** Cookies of one kind a browser keeps at once; starting another clears the oldest beyond these. */
const KEPT = 5;

/**
 * The cookies that carry a browser's side of a redirect flow to an upstream and back (sign-in
 * with an identity provider, connecting an upstream API), one per flow, named after the flow's
 * `state` (a short hash of it): flows started in two tabs, or with two providers, each find their
 * own cookie at the callback instead of overwriting one another. A browser keeps at most five of
 * a kind; each also expires on its own and is cleared at its callback.
 */
export function flowCookies(ctx: Context, kind: 'signin' | 'connect') {
  // The session cookie's prefix (`__Host-` on https) applies to these too.
  const prefix = ctx.cookies.names.session.replace('gatehouse_session', `gatehouse_${kind}_`);
  const name = (state: string) =>
    `${prefix}${createHash('sha256').update(`gatehouse-${kind}:${state}`).digest('base64url').slice(0, 16)}`;
  return {
    name,
    /** The Set-Cookie headers that start a flow: its cookie, and the clearing of the oldest others. */
    start(request: Request, state: string, value: string, maxAgeSeconds: number): string[] {
      // Browsers send cookies of equal path oldest first (RFC 6265 §5.4, a SHOULD): at worst a
      // newer one goes first, and its flow asks to start again.
      const others = (request.headers.get('cookie') ?? '')
        .split(';')
        .map((part) => part.slice(0, part.indexOf('=')).trim())
        .filter((cookie) => cookie.startsWith(prefix));
      return [
        ctx.cookies.serialize(name(state), value, maxAgeSeconds),
        ...others
          .slice(0, Math.max(0, others.length - (KEPT - 1)))
          .map((cookie) => ctx.cookies.serialize(cookie, '', 0)),
      ];
    },
    read: (request: Request, state: string) => ctx.cookies.read(request, name(state)),
    /** The Set-Cookie header that ends a flow's cookie, whatever its outcome. */
    clear: (state: string) => ctx.cookies.serialize(name(state), '', 0),
  };
}
