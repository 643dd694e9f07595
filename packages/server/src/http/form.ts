import { OAuthError, readBodyText } from '@gatehouse/core';

/** Request bodies above these sizes are refused with 413 before parsing (form posts are small). */
export const MAX_FORM_BYTES = 16 * 1024;
export const MAX_JSON_BYTES = 64 * 1024;

/**
 * Parameters that RFC 6749 §3.1/§3.2 says must not repeat; we refuse any repeat at all, except of
 * the keys in `joined`, whose values are joined with spaces (a page's `scope` checkboxes, one
 * field each, read as one space-delimited scope, RFC 6749 §3.3).
 */
function toSingleMap(params: URLSearchParams, joined: readonly string[] = []): Map<string, string> {
  const map = new Map<string, string>();
  for (const [key, value] of params) {
    const previous = map.get(key);
    if (previous !== undefined && joined.includes(key)) map.set(key, `${previous} ${value}`);
    else if (map.has(key)) throw new OAuthError('invalid_request', `The parameter "${key}" is repeated.`);
    else map.set(key, value);
  }
  return map;
}

/**
 * Reads an `application/x-www-form-urlencoded` body (RFC 6749 §4.1.3, §3.2).
 * Repeated parameters, a wrong content type or an oversized body are `invalid_request`.
 */
export async function readForm(
  request: Request,
  maxBytes = MAX_FORM_BYTES,
  options: { joined?: readonly string[] } = {},
): Promise<Map<string, string>> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OAuthError('invalid_request', 'The body must be application/x-www-form-urlencoded.');
  }
  return toSingleMap(new URLSearchParams(await readBodyText(request, maxBytes)), options.joined);
}

/** Query parameters with the same no-repeat rule (RFC 6749 §3.1). */
export function queryParams(request: Request): Map<string, string> {
  return toSingleMap(new URL(request.url).searchParams);
}

/** Reads a JSON object body (RFC 7591 registration). */
export async function readJson(request: Request, maxBytes = MAX_JSON_BYTES): Promise<unknown> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new OAuthError('invalid_request', 'The body must be application/json.');
  try {
    return JSON.parse(await readBodyText(request, maxBytes));
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    throw new OAuthError('invalid_request', 'The body is not valid JSON.');
  }
}
