import type { FuzzRequest } from './generators/request.ts';
import type { RawResponse } from './wire.ts';
import type { World } from './world.ts';

/**
 * What must hold for every answer, whatever was asked. Each check returns the broken invariant's
 * name and what was seen; the property (property.ts) collects them.
 */
export interface Violation {
  /** A stable name: the long run groups counterexamples by it. */
  invariant: string;
  detail: string;
}

/**
 * Error codes registered for OAuth (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 7009 §2.2.1;
 * RFC 7591 §3.2.2; RFC 8707 §2; RFC 8628 §3.5; RFC 9449 §12.2), from the specs rather than from
 * @gatehouse/core, so the suite checks core too.
 */
const REGISTERED_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'unsupported_response_type',
  'server_error',
  'temporarily_unavailable',
  'invalid_token',
  'insufficient_scope',
  'unsupported_token_type',
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
  'invalid_target',
  'authorization_pending',
  'slow_down',
  'expired_token',
  'invalid_dpop_proof',
  'use_dpop_nonce',
]);

/** Endpoints whose errors are RFC 6749 §5.2 JSON (the authorization endpoint redirects or shows a page instead). */
const JSON_ERROR_ENDPOINTS = new Set([
  '/oauth/token',
  '/oauth/revoke',
  '/oauth/introspect',
  '/oauth/register',
  '/oauth/revocations',
]);

/** RFC 6749 §5.2: error_description and error_uri use %x20-21 / %x23-5B / %x5D-7E only. */
const ERROR_TEXT = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Traces of the implementation: stack frames, source files, module folders. */
const INTERNALS: [string, RegExp][] = [
  ['a stack frame', /\bat (?:async )?[\w$.<>[\] ]*\(?(?:file:|node:|\/)[^\s)]*:\d+:\d+\)?/],
  ['a TypeScript source line', /\.ts:\d+/],
  ['node_modules', /node_modules/],
  ['node:internal', /node:internal/],
  ['an error class name', /\b(?:TypeError|ReferenceError|RangeError|SyntaxError|SqliteError)\b/],
];

export const header = (response: RawResponse, name: string) => response.headers.get(name)?.join(', ');

/** The path a target names, or undefined when it names none (e.g. `*`, a malformed URL). */
export function pathOf(target: string): string | undefined {
  if (target.startsWith('/')) return target.split(/[?#]/, 1)[0];
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}

/**
 * node:http's own answer to a message it will not hand to the application, so route-level rules
 * do not apply: a parse failure (RFC 9112 §3, §5) gets an empty 4xx/505 and a closed connection;
 * an Expect other than 100-continue gets an empty 417 (RFC 9110 §10.1.1 allows it).
 */
export const isProtocolRefusal = (response: RawResponse) =>
  response.body.length === 0 &&
  (response.status === 417 ||
    ([400, 413, 414, 431, 505].includes(response.status) &&
      /\bclose\b/i.test(header(response, 'connection') ?? '')));

function parseJson(response: RawResponse): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The error member of a JSON body, if the body is a JSON object with one. */
function jsonError(response: RawResponse): string | undefined {
  const json = parseJson(response);
  return json && typeof json === 'object' && 'error' in json ? String(json.error) : undefined;
}

/**
 * No 5xx; 503 only as the documented `temporarily_unavailable` (registration cap, AS unreachable),
 * 501 only for a method no route serves (RFC 9110 §15.6.2: TRACE, which a web Request cannot carry).
 */
export function noServerError(response: RawResponse): Violation[] {
  if (response.status < 500) return [];
  if (response.status === 503 && jsonError(response) === 'temporarily_unavailable') return [];
  if (response.status === 501 && jsonError(response) === 'invalid_request') return [];
  return [
    { invariant: 'no 5xx', detail: `status ${response.status}: ${response.body.toString('utf8', 0, 200)}` },
  ];
}

/** RFC 6749 §5.2: the JSON endpoints answer errors as a JSON object with a registered `error`. */
export function oauthErrorShape(request: FuzzRequest, response: RawResponse): Violation[] {
  const path = pathOf(request.target);
  if (path === undefined || !JSON_ERROR_ENDPOINTS.has(path)) return [];
  if (response.status < 400 || isProtocolRefusal(response)) return [];
  // RFC 9110 §9.3.2: an answer to HEAD has no content, so only GET's headers can be checked.
  if (request.method === 'HEAD') return [];
  const invariant = 'RFC 6749 §5.2 error shape';
  const type = header(response, 'content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    return [{ invariant, detail: `${response.status} with content-type ${JSON.stringify(type)}` }];
  }
  const json = parseJson(response) as Record<string, unknown> | undefined;
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    return [{ invariant, detail: `${response.status} body is not a JSON object` }];
  }
  if (typeof json.error !== 'string' || !REGISTERED_ERRORS.has(json.error)) {
    return [
      {
        invariant,
        detail: `${response.status} error ${JSON.stringify(json.error)} is not a registered code`,
      },
    ];
  }
  for (const member of ['error_description', 'error_uri']) {
    const value = json[member];
    if (value !== undefined && (typeof value !== 'string' || !ERROR_TEXT.test(value))) {
      return [
        {
          invariant,
          detail: `${member} ${JSON.stringify(value)} has characters outside %x20-7E less " and \\`,
        },
      ];
    }
  }
  return [];
}

/** RFC 6749 §5.1: a 2xx from the token endpoint is a token response, nothing else. */
export function tokenSuccessShape(request: FuzzRequest, response: RawResponse): Violation[] {
  if (pathOf(request.target) !== '/oauth/token' || response.status < 200 || response.status >= 300) return [];
  if (request.method === 'OPTIONS' || request.method === 'HEAD') return [];
  const json = parseJson(response) as Record<string, unknown> | undefined;
  if (json && typeof json.access_token === 'string' && typeof json.token_type === 'string') return [];
  return [
    {
      invariant: 'RFC 6749 §5.1 token response shape',
      detail: `${response.status} without access_token/token_type: ${response.body.toString('utf8', 0, 200)}`,
    },
  ];
}

/**
 * RFC 6749 §5.2: a grant type the server does not support is `unsupported_grant_type`;
 * `unauthorized_client` is for a supported grant this client may not use (Trust finding 1: DCR
 * clients reached the grant lookup by `constructor` and got the latter).
 */
export function unsupportedGrantType(world: World, request: FuzzRequest, response: RawResponse): Violation[] {
  if (pathOf(request.target) !== '/oauth/token' || request.method !== 'POST' || request.body.label !== 'form')
    return [];
  if (request.framing !== 'content-length' && request.framing !== 'chunked') return [];
  const grantTypes = new URLSearchParams(request.body.text).getAll('grant_type');
  const [grantType] = grantTypes;
  if (grantTypes.length !== 1 || grantType === undefined || world.grantTypesSupported.has(grantType))
    return [];
  if (jsonError(response) !== 'unauthorized_client') return [];
  return [
    {
      invariant: 'RFC 6749 §5.2 unsupported_grant_type',
      detail: `grant_type ${JSON.stringify(grantType)} (not in grant_types_supported) answered unauthorized_client`,
    },
  ];
}

/** RFC 6749 §5.2, RFC 6750 §3: a 401 names the scheme to use (Basic for clients, Bearer at the resource). */
export function challengeOn401(request: FuzzRequest, response: RawResponse): Violation[] {
  if (response.status !== 401) return [];
  const path = pathOf(request.target);
  const usedAuthorization = request.headers.some(([name]) => name === 'authorization');
  const needed =
    path === '/mcp' || (path !== undefined && JSON_ERROR_ENDPOINTS.has(path) && usedAuthorization);
  if (!needed || header(response, 'www-authenticate')) return [];
  return [
    { invariant: 'RFC 6750 §3 / RFC 6749 §5.2 WWW-Authenticate on 401', detail: `401 at ${path} without it` },
  ];
}

/** No stack trace, source path or module folder, in the head or the body. */
export function noInternals(world: World, response: RawResponse): Violation[] {
  const text = `${response.head}\r\n\r\n${response.body.toString('utf8')}`;
  const found = INTERNALS.filter(([, pattern]) => pattern.test(text)).map(([what]) => what);
  found.push(...world.paths.filter((path) => text.includes(path)).map(() => 'a file path of the server'));
  return found.map((what) => ({
    invariant: 'no internals in responses',
    detail: `${what} in: ${text.slice(0, 300)}`,
  }));
}

/** Never a secret in a response, unless the request itself carried it (an echo tells the sender nothing). */
export function noSecrets(world: World, sent: Buffer, response: RawResponse): Violation[] {
  const text = `${response.head}\r\n\r\n${response.body.toString('utf8')}`;
  const request = sent.toString('utf8');
  const violations: Violation[] = [];
  for (const [name, secret] of world.secrets) {
    if (text.includes(secret) && !request.includes(secret)) {
      violations.push({ invariant: 'no secrets in responses', detail: `the ${name} is in the response` });
    }
  }
  return violations;
}

/** Every page forbids framing (clickjacking): CSP `frame-ancestors 'none'`. */
export function pagesForbidFraming(response: RawResponse): Violation[] {
  if (!/^text\/html\b/i.test(header(response, 'content-type') ?? '')) return [];
  if (/frame-ancestors 'none'/.test(header(response, 'content-security-policy') ?? '')) return [];
  return [
    { invariant: "frame-ancestors 'none' on pages", detail: `${response.status} HTML page without it` },
  ];
}

/** RFC 9110 §15.5.6: a 405 carries Allow. */
export function allowOn405(response: RawResponse): Violation[] {
  if (response.status !== 405 || header(response, 'allow') !== undefined) return [];
  return [{ invariant: 'RFC 9110 §15.5.6 Allow on 405', detail: '405 without Allow' }];
}

/**
 * RFC 9110 §9.1, §9.3.2: every resource that answers GET answers HEAD too, except the
 * authorization endpoint, whose GET may issue a code: a HEAD must never do that, and the answer
 * a GET would give cannot be known without doing it, so HEAD there is refused with 405.
 */
const GET_WITH_SIDE_EFFECTS = new Set(['/oauth/authorize']);

/** RFC 9110 §9.1: HEAD wherever GET is allowed (see GET_WITH_SIDE_EFFECTS for the exception). */
export function headWhereGet(request: FuzzRequest, response: RawResponse): Violation[] {
  if (request.method !== 'HEAD' || response.status !== 405) return [];
  if (GET_WITH_SIDE_EFFECTS.has(pathOf(request.target) ?? '')) return [];
  if (!/\bGET\b/.test(header(response, 'allow') ?? '')) return [];
  return [
    {
      invariant: 'RFC 9110 §9.1 HEAD wherever GET',
      detail: `405 to HEAD with Allow: ${header(response, 'allow')}`,
    },
  ];
}

/** Every per-response check, in one list. */
export function checkResponse(
  world: World,
  request: FuzzRequest,
  sent: Buffer,
  response: RawResponse,
): Violation[] {
  return [
    ...noServerError(response),
    ...oauthErrorShape(request, response),
    ...tokenSuccessShape(request, response),
    ...unsupportedGrantType(world, request, response),
    ...challengeOn401(request, response),
    ...noInternals(world, response),
    ...noSecrets(world, sent, response),
    ...pagesForbidFraming(response),
    ...allowOn405(response),
    ...headWhereGet(request, response),
  ];
}
