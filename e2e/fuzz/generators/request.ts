import fc from 'fast-check';
import type { World } from '../world.ts';
import { bodyArbitrary, type FuzzBody } from './bodies.ts';
import { endpointRequestArbitrary } from './endpoint-request.ts';
import { headersArbitrary } from './headers.ts';
import { methodArbitrary } from './methods.ts';
import { targetArbitrary } from './targets.ts';

/**
 * One fuzzed HTTP/1.1 request, and its bytes on the wire.
 *
 * Framing (RFC 9112 §6) is chosen apart from the body:
 * - `content-length`: the true length;
 * - `chunked`: Transfer-Encoding: chunked, the body in up to three chunks;
 * - `no-length`: neither field, and so no body;
 * - `short-length`: a Content-Length below the body's size: the rest arrives as the start of a
 *   next request (request smuggling's raw material);
 * - `long-length`: a Content-Length above the body's size, then the client half-closes.
 * The last two break the framing on the client's side: the connection is spoiled by the client,
 * so the property checks only that the server answers sanely and a fresh connection works.
 */
export type Framing = 'content-length' | 'chunked' | 'no-length' | 'short-length' | 'long-length';

export interface FuzzRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body: FuzzBody;
  framing: Framing;
}

/** Whether the client itself broke the message framing (see `Framing`). */
export const breaksFraming = (request: FuzzRequest) =>
  request.framing === 'short-length' || request.framing === 'long-length';

const framingArbitrary: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Framing>('content-length') },
  { weight: 3, arbitrary: fc.constant<Framing>('chunked') },
  { weight: 1, arbitrary: fc.constant<Framing>('no-length') },
  { weight: 1, arbitrary: fc.constantFrom<Framing>('short-length', 'long-length') },
);

const bodyBytes = (body: FuzzBody) => Buffer.from(body.text, body.label === 'raw' ? 'latin1' : 'utf8');

/** The request as bytes; `host` is the Host field every request carries. */
export function serialize(request: FuzzRequest, host: string): { bytes: Buffer; halfClose: boolean } {
  const body = request.framing === 'no-length' ? Buffer.alloc(0) : bodyBytes(request.body);
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `host: ${host}`];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  let payload = body;
  switch (request.framing) {
    case 'content-length':
      lines.push(`content-length: ${body.length}`);
      break;
    case 'chunked': {
      lines.push('transfer-encoding: chunked');
      const third = Math.ceil(body.length / 3);
      const chunks: Buffer[] = [];
      for (let at = 0; at < body.length; at += third) {
        const chunk = body.subarray(at, at + third);
        chunks.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
      }
      payload = Buffer.concat([...chunks, Buffer.from('0\r\n\r\n')]);
      break;
    }
    case 'short-length':
      lines.push(`content-length: ${Math.floor(body.length / 2)}`);
      break;
    case 'long-length':
      lines.push(`content-length: ${body.length + 10}`);
      break;
    case 'no-length':
      break;
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
  return { bytes: Buffer.concat([head, payload]), halfClose: request.framing === 'long-length' };
}

/** At most `max` characters of `text`, with the rest summarised, control characters escaped. */
function abbreviate(text: string, max = 160): string {
  const shown = JSON.stringify(text.length > max ? text.slice(0, max) : text);
  return text.length > max ? `${shown}… (${text.length} characters)` : shown;
}

/** A counterexample as a person reads it: the request line, fields, framing and body in short. */
export function describeRequest(request: FuzzRequest): string {
  return [
    `${abbreviate(request.method, 40)} ${abbreviate(request.target)}`,
    ...request.headers.map(([name, value]) => `  ${name}: ${abbreviate(value, 100)}`),
    `  framing: ${request.framing}`,
    `  body (${request.body.label}): ${abbreviate(request.body.text, 300)}`,
  ].join('\n');
}

/** Anything at all (3 in 4), or a request shaped to get deep into an endpoint (see endpoint-request.ts). */
export function requestArbitrary(world: World): fc.Arbitrary<FuzzRequest> {
  const anything = fc.record({
    method: methodArbitrary,
    target: targetArbitrary(world),
    headers: headersArbitrary(world),
    body: bodyArbitrary(world),
    framing: framingArbitrary,
  });
  return fc
    .oneof({ weight: 3, arbitrary: anything }, { weight: 1, arbitrary: endpointRequestArbitrary(world) })
    .map((request) =>
      Object.defineProperty(request, fc.toStringMethod, {
        value: () => `\n${describeRequest(request)}\n`,
        enumerable: false,
      }),
    );
}
