/** Default bound on a request body the guard reads (the MCP SDK's own default). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

/**
 * Reads the body of a clone of `request` as text, refusing more than `maxBytes`, so the original
 * stays readable for the handler behind the guard.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  if (!hasBody(request)) return '';
  const bytes = await readBytes(request.clone(), maxBytes);
  return bytes === undefined ? '' : bodyText(bytes);
}

/**
 * Reads the body of `request` itself (undefined when it has none), refusing more than `maxBytes`.
 * Cheaper than a clone, which tees the stream; the caller hands the bytes on in a new `Request`.
 */
export async function readBodyBytes(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  return hasBody(request) ? readBytes(request, maxBytes) : undefined;
}

/** The body as the guard reads it: UTF-8. */
export function bodyText(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function hasBody(request: Request): boolean {
  return request.body !== null && request.method !== 'GET' && request.method !== 'HEAD';
}

async function readBytes(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError();
  const reader = request.body?.getReader();
  if (!reader) return undefined;
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  // The usual small JSON-RPC body arrives in one chunk: no copy.
  return chunks.length === 1 ? (chunks[0] as Uint8Array<ArrayBuffer>) : Buffer.concat(chunks);
}

export function payloadTooLargeResponse(): Response {
  return new Response(
    JSON.stringify({ error: 'invalid_request', error_description: 'The body is too large.' }),
    {
      status: 413,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    },
  );
}
