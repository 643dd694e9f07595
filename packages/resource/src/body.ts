/** Default bound on a request body the guard reads (the MCP SDK's own default). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

/**
 * Reads the body of a clone of `request` as text, refusing more than `maxBytes`, so the original
 * stays readable for the handler behind the guard.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  if (request.body === null || request.method === 'GET' || request.method === 'HEAD') return '';
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError();
  const reader = request.clone().body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
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
  return Buffer.concat(chunks).toString('utf8');
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
