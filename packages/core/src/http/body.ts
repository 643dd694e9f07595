import { OAuthError } from '../errors.ts';

/**
 * The one body reader. Bodies are read with a bound; a body over it is refused with 413 and left
 * unread, and the Node adapter then closes the connection (RFC 9112 §9.6), so nothing of it stays
 * on a kept-alive socket.
 */

/** Bodies the Node adapter read into memory before the handler ran, by request. */
const bufferedBodies = new WeakMap<Request, Uint8Array>();

/** Records bytes the transport already holds for `request` (see `bufferedBodyOf`). */
export function rememberBufferedBody(request: Request, body: Uint8Array): void {
  bufferedBodies.set(request, body);
}

/**
 * The body of a request whose bytes the adapter already holds, while it is unread; `undefined`
 * otherwise (then read `request.body`). Reading the bytes is much cheaper than iterating the
 * Request's web stream over them; the Request's own body stays intact for anyone else.
 */
export function bufferedBodyOf(request: Request): Uint8Array | undefined {
  return request.bodyUsed ? undefined : bufferedBodies.get(request);
}

/** RFC 9110 §15.5.14: the 413 every body reader throws. */
export function payloadTooLarge(maxBytes: number): OAuthError {
  return new OAuthError('invalid_request', `The request body exceeds ${maxBytes} bytes.`, { status: 413 });
}

/** Whether `request` declares a body longer than `maxBytes` (checked before reading anything). */
export function declaresMoreThan(request: Request, maxBytes: number): boolean {
  const declared = Number(request.headers.get('content-length'));
  return Number.isFinite(declared) && declared > maxBytes;
}

/**
 * Reads a request body up to `maxBytes`, throwing a 413 `OAuthError` beyond it without buffering
 * the rest. `undefined` when the request has no body.
 */
export async function readBodyBytes(request: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  if (declaresMoreThan(request, maxBytes)) throw payloadTooLarge(maxBytes);
  const buffered = bufferedBodyOf(request);
  if (buffered) {
    if (buffered.byteLength > maxBytes) throw payloadTooLarge(maxBytes);
    return buffered;
  }
  const reader = request.body?.getReader();
  if (!reader) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw payloadTooLarge(maxBytes);
    }
    chunks.push(value);
  }
  // The usual small body arrives in one chunk: no copy.
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
}

/** UTF-8 text of bytes, without copying them. */
export function utf8(bytes: Uint8Array | undefined): string {
  return bytes === undefined
    ? ''
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** `readBodyBytes` as UTF-8 text ('' without a body). */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  return utf8(await readBodyBytes(request, maxBytes));
}
