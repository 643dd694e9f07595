/**
 * The one router: paths to per-method handlers. Static paths are a Map lookup; a pattern such as
 * `/interaction/:id/login` matches segment by segment. Method names come from the request, so they
 * are looked up in a Map, never in a plain object.
 */

/** What a route handler receives besides the request. */
export interface RequestInfo {
  /** A short id for this request, echoed as `x-request-id` and in error log lines. */
  readonly requestId: string;
  /** The client's address, when the transport knows it (rate limits are keyed by it). */
  readonly remoteAddress: string | undefined;
  /** Values of the pattern's `:name` segments. */
  readonly params: ReadonlyMap<string, string>;
}

export type RouteHandler = (request: Request, info: RequestInfo) => Promise<Response> | Response;

export interface RouteOptions {
  /**
   * Readable cross-origin (CORS with `*`, no credentials): for what browser-based MCP clients call
   * (metadata, JWKS, registration, token, revocation). Pages and cookie-bearing routes stay same-origin.
   */
  cors?: boolean;
  /** Largest request body this route reads; a larger declared body is refused with 413 unread. Default 64 KiB. */
  maxBodyBytes?: number;
  /**
   * HEAD is answered as GET without the body (RFC 9110 §9.3.2) unless this is false: for a GET
   * with side effects (the authorization endpoint issues codes), which a HEAD must never cause.
   */
  head?: boolean;
  /** A page for browsers: its errors are rendered as pages, not JSON. */
  page?: boolean;
}

export interface Route {
  readonly methods: ReadonlyMap<string, RouteHandler>;
  /** The `Allow` header value (RFC 9110 §10.2.1). */
  readonly allow: string;
  readonly cors: boolean;
  readonly page: boolean;
  readonly maxBodyBytes: number;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export type MethodHandlers = Partial<
  Record<'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', RouteHandler>
>;

interface PatternRoute {
  segments: string[];
  route: Route;
}

const NO_PARAMS: ReadonlyMap<string, string> = new Map();

export class Router {
  readonly #static = new Map<string, Route>();
  readonly #patterns: PatternRoute[] = [];

  /**
   * Adds a route (replacing one at the same path).
   *
   * @example router.add('/oauth/token', { POST: token }, { cors: true })
   */
  add(path: string, handlers: MethodHandlers, options: RouteOptions = {}): this {
    const methods = new Map<string, RouteHandler>();
    for (const [method, handler] of Object.entries(handlers)) {
      if (!handler) continue;
      methods.set(method, handler);
      if (method === 'GET' && options.head !== false) methods.set('HEAD', handler);
    }
    const allow = [...methods.keys(), ...(options.cors ? ['OPTIONS'] : [])].join(', ');
    const route: Route = {
      methods,
      allow,
      cors: options.cors === true,
      page: options.page === true,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    };
    if (path.includes('/:')) this.#patterns.push({ segments: path.split('/'), route });
    else this.#static.set(path, route);
    return this;
  }

  /** The route for a path and the values of its parameters, or undefined. */
  match(pathname: string): { route: Route; params: ReadonlyMap<string, string> } | undefined {
    const fixed = this.#static.get(pathname);
    if (fixed) return { route: fixed, params: NO_PARAMS };
    const parts = pathname.split('/');
    for (const { segments, route } of this.#patterns) {
      if (segments.length !== parts.length) continue;
      const params = new Map<string, string>();
      const ok = segments.every((segment, i) => {
        const part = parts[i] as string;
        if (segment.startsWith(':')) {
          params.set(segment.slice(1), part);
          return part.length > 0;
        }
        return segment === part;
      });
      if (ok) return { route, params };
    }
    return undefined;
  }
}

/**
 * The path of a Request's URL. `request.url` is already a serialized WHATWG URL, so for http(s)
 * the path is the text between the authority and the query or fragment, exactly as
 * `new URL(url).pathname` would give it, without parsing the URL a second time on every request.
 */
export function pathOf(url: string): string {
  const authority = url.startsWith('https://') ? 8 : url.startsWith('http://') ? 7 : -1;
  if (authority < 0) return new URL(url).pathname;
  const start = url.indexOf('/', authority);
  if (start < 0) return '/';
  let end = url.length;
  for (let i = start; i < end; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) end = i;
  }
  return url.slice(start, end);
}
