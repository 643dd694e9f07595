/**
 * Reads which MCP operations a request performs, from the `Mcp-Method` / `Mcp-Name` headers of the
 * 2026-07-28 revision (checked against the body) and the JSON-RPC body, batches included.
 *
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports
 */

/** One JSON-RPC message the client sends: its method and params (responses have no method). */
export interface McpOperation {
  method: string | undefined;
  params: Record<string, unknown> | undefined;
}

/** A request the guard refuses to interpret: answered with 400 and a JSON-RPC error. */
export class McpRequestError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'McpRequestError';
    this.code = code;
  }

  toResponse(): Response {
    const body = { jsonrpc: '2.0', id: null, error: { code: this.code, message: this.message } };
    return new Response(JSON.stringify(body), {
      status: 400,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
  }
}

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
/** SEP-2243 `HeaderMismatch`: the standard headers disagree with the body. */
export const HEADER_MISMATCH = -32020;

/** Which body field the `Mcp-Name` header mirrors, per method (SEP-2243). */
const NAME_SOURCE = new Map([
  ['tools/call', 'name'],
  ['prompts/get', 'name'],
  ['resources/read', 'uri'],
  ['tasks/get', 'taskId'],
  ['tasks/update', 'taskId'],
  ['tasks/cancel', 'taskId'],
]);

/**
 * Parses the body (already read as text) into operations and cross-checks the standard headers.
 * An empty body (GET, DELETE) yields no operations.
 */
export function readMcpOperations(headers: Headers, bodyText: string): McpOperation[] {
  return mcpOperationsOf(headers, parseJsonBody(bodyText));
}

/**
 * The body as JSON, parsed once for the guard and the handler behind it: undefined when blank,
 * a `PARSE_ERROR` when it is not JSON.
 */
export function parseJsonBody(bodyText: string): unknown {
  if (bodyText.trim() === '') return undefined;
  try {
    return JSON.parse(bodyText);
  } catch {
    throw new McpRequestError(PARSE_ERROR, 'Parse error: the body is not JSON.');
  }
}

/** {@link readMcpOperations} on a body already parsed by {@link parseJsonBody} (undefined: no body). */
export function mcpOperationsOf(headers: Headers, parsed: unknown): McpOperation[] {
  const methodHeader = headers.get('mcp-method')?.trim();
  const nameHeader = headers.get('mcp-name')?.trim();
  if (parsed === undefined) {
    if (methodHeader) throw new McpRequestError(HEADER_MISMATCH, 'Mcp-Method header without a request body.');
    return [];
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  if (messages.length === 0) throw new McpRequestError(INVALID_REQUEST, 'Empty batch.');
  const operations = messages.map(toOperation);
  if (methodHeader !== undefined) {
    const [only] = operations;
    if (operations.length !== 1 || !only || only.method !== methodHeader) {
      throw new McpRequestError(HEADER_MISMATCH, 'The Mcp-Method header does not match the body.');
    }
    if (nameHeader !== undefined) {
      const field = NAME_SOURCE.get(methodHeader);
      const bodyValue = field ? only.params?.[field] : undefined;
      if (field === undefined || decodeHeaderValue(nameHeader) !== bodyValue) {
        throw new McpRequestError(HEADER_MISMATCH, 'The Mcp-Name header does not match the body.');
      }
    }
  } else if (nameHeader !== undefined) {
    throw new McpRequestError(HEADER_MISMATCH, 'Mcp-Name header without Mcp-Method.');
  }
  return operations;
}

function toOperation(message: unknown): McpOperation {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new McpRequestError(INVALID_REQUEST, 'Invalid request: not a JSON-RPC message.');
  }
  const { method, params } = message as { method?: unknown; params?: unknown };
  if (method !== undefined && typeof method !== 'string') {
    throw new McpRequestError(INVALID_REQUEST, 'Invalid request: method must be a string.');
  }
  const isObject = typeof params === 'object' && params !== null && !Array.isArray(params);
  return { method, params: isObject ? (params as Record<string, unknown>) : undefined };
}

/** Header values outside visible ASCII travel as `=?base64?<utf-8 as base64>?=` (SEP-2243). */
export function decodeHeaderValue(value: string): string | undefined {
  const m = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/.exec(value);
  if (!m) return value;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(m[1] as string, 'base64'));
  } catch {
    return undefined;
  }
}
