import fc from 'fast-check';
import { COMMON_METHODS } from './generators/methods.ts';
import {
  breaksFraming,
  describeRequest,
  type FuzzRequest,
  requestArbitrary,
  serialize,
} from './generators/request.ts';
import { KNOWN_PATHS } from './generators/targets.ts';
import { checkResponse, header, pathOf, type Violation } from './invariants.ts';
import { type NoResponse, RawConnection, type RawResponse } from './wire.ts';
import type { World } from './world.ts';

/**
 * The property: send one fuzzed request on a fresh keep-alive connection, check the answer, then
 * check the connection (RFC 9112 §9.3: persistent unless a side said `close`; §9.6: a server that
 * will not read the rest of a body must close). Deadlines bound every wait; none is asserted on.
 */

/** How long an answer may take: generous, since sign-in runs scrypt on a shared machine. */
const ANSWER_DEADLINE_MS = 10_000;
/** "Within a few seconds" for the follow-up metadata request. */
const FOLLOW_UP_DEADLINE_MS = 5_000;
const METADATA = '/.well-known/oauth-authorization-server';

const KNOWN = new Set<string>(KNOWN_PATHS);

/** The route a target reaches, for grouping counterexamples: known paths by name, the rest by kind. */
export function routeOf(target: string): string {
  const path = pathOf(target);
  if (path === undefined) return 'a malformed target';
  if (KNOWN.has(path)) return path;
  if (path.startsWith('/interaction/')) return '/interaction/…';
  return 'an unknown path';
}

/** A stable key for "the same bug": the broken invariant at a route. */
const COMMON = new Set<string>(COMMON_METHODS);

/**
 * A stable key for "the same bug": the broken invariant and the status, at a route, or for an
 * uncommon method wherever it is sent (TRACE failing at every route is one bug, not twenty).
 */
export function signatureOf(request: FuzzRequest, violation: Violation, status: number | undefined): string {
  const where = COMMON.has(request.method) ? `at ${routeOf(request.target)}` : `for ${request.method}`;
  return `${violation.invariant} (${status ?? 'no answer'}) ${where}`;
}

/** Status, the fields that matter here, and the start of the body. */
export function describeResponse(response: RawResponse | NoResponse): string {
  if (typeof response === 'string')
    return response === 'closed' ? 'connection closed, no answer' : 'no answer';
  const fields = ['content-type', 'connection', 'allow', 'www-authenticate', 'content-security-policy']
    .map((name) => [name, header(response, name)] as const)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `  ${name}: ${value}`);
  return [
    `${response.status}`,
    ...fields,
    `  body: ${JSON.stringify(response.body.toString('utf8', 0, 300))}`,
  ].join('\n');
}

/** GET of the metadata on `connection`: does the server still answer there? */
async function metadataAnswers(world: World, connection: RawConnection): Promise<RawResponse | NoResponse> {
  connection.write(Buffer.from(`GET ${METADATA} HTTP/1.1\r\nhost: ${world.host}\r\n\r\n`));
  return connection.readResponse(false, FOLLOW_UP_DEADLINE_MS);
}

async function freshConnectionWorks(world: World): Promise<Violation[]> {
  const connection = await RawConnection.open(world.port, FOLLOW_UP_DEADLINE_MS);
  try {
    const answer = await metadataAnswers(world, connection);
    if (typeof answer !== 'string' && answer.status === 200) return [];
    return [
      {
        invariant: 'the server keeps serving',
        detail: `a fresh connection got: ${describeResponse(answer)}`,
      },
    ];
  } finally {
    connection.close();
  }
}

/** Sends `request`; returns every violated invariant with what was seen. */
export async function exchange(
  world: World,
  request: FuzzRequest,
): Promise<{ violations: Violation[]; seen: string; status: number | undefined }> {
  const connection = await RawConnection.open(world.port, FOLLOW_UP_DEADLINE_MS);
  try {
    const { bytes, halfClose } = serialize(request, world.host);
    connection.write(bytes);
    if (halfClose) connection.endWrite();
    const response = await connection.readResponse(request.method === 'HEAD', ANSWER_DEADLINE_MS);
    const seen = describeResponse(response);
    const violations: Violation[] = [];
    if (typeof response === 'string') {
      // A client that broke the framing may find its spoiled connection closed; anyone else gets an answer.
      if (!(breaksFraming(request) && response === 'closed')) {
        violations.push({ invariant: 'every request is answered', detail: seen });
      }
    } else {
      violations.push(...checkResponse(world, request, bytes, response));
    }
    const saidClose = typeof response !== 'string' && /\bclose\b/i.test(header(response, 'connection') ?? '');
    if (typeof response === 'string' || saidClose || breaksFraming(request)) {
      violations.push(...(await freshConnectionWorks(world)));
    } else {
      const next = await metadataAnswers(world, connection);
      if (typeof next === 'string' || next.status !== 200) {
        violations.push({
          invariant: 'RFC 9112 §9.3, §9.6 connection usable after a keep-alive answer',
          detail: `the follow-up GET ${METADATA} on the same connection got: ${describeResponse(next)}`,
        });
      }
    }
    return { violations, seen, status: typeof response === 'string' ? undefined : response.status };
  } finally {
    connection.close();
  }
}

export interface PropertyOptions {
  /** Signatures (see `signatureOf`) to pass over: the long run's already-reported bugs. */
  known?: Set<string>;
  /** Filled with the new signatures each failing request broke, so the long run can set them aside. */
  failures?: WeakMap<FuzzRequest, string[]>;
  /** Called after every request (generated or shrunk), for progress reports. */
  onExchange?: () => void;
}

/** The fast-check property over every generated request. */
export function httpProperty(world: World, options: PropertyOptions = {}) {
  return fc.asyncProperty(requestArbitrary(world), async (request) => {
    const { violations, seen, status } = await exchange(world, request);
    options.onExchange?.();
    const fresh = violations.filter((v) => !options.known?.has(signatureOf(request, v, status)));
    if (fresh.length === 0) return;
    options.failures?.set(
      request,
      fresh.map((v) => signatureOf(request, v, status)),
    );
    throw new Error(
      [
        `${fresh.length} invariant(s) broken:`,
        ...fresh.map((v) => `- ${signatureOf(request, v, status)}: ${v.detail}`),
        'request:',
        describeRequest(request),
        'response:',
        seen,
      ].join('\n'),
    );
  });
}
