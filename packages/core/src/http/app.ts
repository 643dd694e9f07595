import { randomUUID } from 'node:crypto';
import { errorResponse, OAuthError } from '../errors.ts';
import { declaresMoreThan, payloadTooLarge } from './body.ts';
import { CORS_RESPONSE_HEADERS, preflightResponse } from './cors.ts';
import { logUnexpectedError } from './error-log.ts';
import { pathOf, type Route, type Router } from './router.ts';

/** What the transport knows that a web Request does not. */
export interface TransportInfo {
  remoteAddress?: string | undefined;
}

/** A web-standard handler, as every Gatehouse HTTP surface exposes it. */
export type HttpHandler = (request: Request, transport?: TransportInfo) => Promise<Response>;

/** Where an unexpected error happened; never holds request data beyond method and path. */
export interface ErrorContext {
  requestId: string;
  method: string;
  path: string;
}

export interface HttpAppOptions {
  router: Router;
  /**
   * Turns an `OAuthError` (including the layer's own 405 and 413) into a response; `route` is
   * undefined when none matched. Default: RFC 6749 §5.2 JSON.
   */
  renderError?: (error: OAuthError, request: Request, route: Route | undefined) => Response;
  /**
   * Reports unexpected errors (those that become `server_error`). Default: one JSON line on stderr
   * with the request id; never a secret or token.
   */
  onError?: (error: unknown, context: ErrorContext) => void;
}

/** An id the caller may supply (a load balancer's), when it is short and plain; otherwise a new one. */
const REQUEST_ID = /^[\w.:-]{1,64}$/;
function requestIdOf(request: Request): string {
  const given = request.headers.get('x-request-id');
  return given !== null && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The one HTTP layer every route goes through: request id, route, CORS, method check (405 with
 * `Allow`), declared body limit (413), the handler, and one place where errors become responses
 * (an `OAuthError` as itself, anything else as a bare `server_error` reported to `onError`).
 *
 * @example
 * const app = createHttpApp({ router: new Router().add('/oauth/token', { POST: token }, { cors: true }) });
 * http.createServer(toNodeListener(app, 'https://auth.example.com'));
 */
export function createHttpApp(options: HttpAppOptions): HttpHandler {
  const { router } = options;
  const renderError = options.renderError ?? ((error) => errorResponse(error));
  const onError = options.onError ?? logUnexpectedError;

  return async (request, transport) => {
    const requestId = requestIdOf(request);
    const path = pathOf(request.url);
    const match = router.match(path);
    let response: Response;
    try {
      if (!match)
        throw new OAuthError('invalid_request', 'There is nothing at this address.', { status: 404 });
      const { route, params } = match;
      const method = request.method;
      const handler = route.methods.get(method);
      if (method === 'OPTIONS' && route.cors) response = preflightResponse(route.allow);
      else if (!handler) {
        throw new OAuthError('invalid_request', `This address accepts ${route.allow}.`, {
          status: 405,
          headers: { allow: route.allow },
        });
      } else if (declaresMoreThan(request, route.maxBodyBytes)) throw payloadTooLarge(route.maxBodyBytes);
      else response = await handler(request, { requestId, remoteAddress: transport?.remoteAddress, params });
    } catch (err) {
      if (!(err instanceof OAuthError) || err.code === 'server_error') {
        onError(err, { requestId, method: request.method, path });
      }
      const error = err instanceof OAuthError ? err : new OAuthError('server_error');
      response = renderError(error, request, match?.route);
    }
    if (request.method === 'HEAD' && response.body) {
      // RFC 9110 §9.3.2: the GET's header fields without its content, on any runtime.
      await response.body.cancel();
      response = new Response(null, response);
    }
    return withHeaders(response, requestId, match?.route.cors === true);
  };
}

/** Adds the request id, CORS headers and a no-framing policy to a response, copying it when its headers are immutable. */
function withHeaders(response: Response, requestId: string, cors: boolean): Response {
  let target = response;
  try {
    target.headers.set('x-request-id', requestId);
  } catch {
    // A Response from fetch() (a proxied upstream) has immutable headers.
    target = new Response(response.body, response);
    target.headers.set('x-request-id', requestId);
  }
  if (cors) for (const [name, value] of CORS_RESPONSE_HEADERS) target.headers.set(name, value);
  // Nothing of ours is meant to be framed (RFC 9700 §4.16); pages set a full policy of their own.
  if (!target.headers.has('content-security-policy')) {
    target.headers.set('content-security-policy', "frame-ancestors 'none'");
    target.headers.set('x-frame-options', 'DENY');
  }
  return target;
}
