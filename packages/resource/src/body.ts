import { OAuthError, readBodyBytes as readBounded, utf8 } from '@gatehouse/core';

/** Default bound on a request body the guard reads (the MCP SDK's own default). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

/** Core's one body reader, with its 413 turned into this module's error for the guard to answer. */
async function readBytes(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    return (await readBounded(request, maxBytes)) as Uint8Array<ArrayBuffer> | undefined;
  } catch (err) {
    if (err instanceof OAuthError && err.status === 413) throw new BodyTooLargeError();
    throw err;
  }
}

/**
 * Reads the body of a clone of `request` as text, refusing more than `maxBytes`, so the original
 * stays readable for the handler behind the guard.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  if (request.body === null) return '';
  return utf8(await readBytes(request.clone(), maxBytes));
}

/**
 * Reads the body of `request` itself (undefined when it has none), refusing more than `maxBytes`.
 * Cheaper than a clone, which tees the stream; the caller hands the bytes on in a new `Request`.
 */
export function readBodyBytes(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  return readBytes(request, maxBytes);
}

/** The body as the guard reads it: UTF-8. */
export const bodyText = utf8;

export function payloadTooLargeResponse(): Response {
  return new Response(
    JSON.stringify({ error: 'invalid_request', error_description: 'The body is too large.' }),
    {
      status: 413,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    },
  );
}
