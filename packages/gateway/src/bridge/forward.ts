/**
 * One client request, re-issued to the upstream by the SDK client. The upstream request gets the
 * SDK client's own JSON-RPC id (so ids of users sharing one upstream never collide) and its own
 * progress token; the client's progress token is kept here and put back on each progress
 * notification the upstream sends; the client's cancellation (its request's abort signal) cancels
 * the upstream request (the SDK sends `notifications/cancelled`).
 */
import type { ProgressToken, RequestOptions, StandardSchemaV1 } from '@modelcontextprotocol/client';

/** `_meta` keys that belong to one hop: the transport envelope and the progress token. */
const HOP_META_PREFIX = 'io.modelcontextprotocol/';

type Params = Record<string, unknown> | undefined;

/**
 * The result schema for an upstream `tools/call`: the result as it came. The SDK's server side
 * validates a `tools/call` result before sending it to the client, so the client side's own zod
 * parse of the same result (the SDK's default for a spec method) was paid twice per call.
 */
export const TOOL_RESULT_AS_IS: StandardSchemaV1<unknown, Record<string, unknown>> = {
  '~standard': {
    version: 1,
    vendor: 'gatehouse',
    validate: (value) =>
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? { value: value as Record<string, unknown> }
        : { issues: [{ message: 'A tools/call result must be an object.' }] },
  },
};

/** The client's params minus what belongs to the client↔gateway hop. */
export function upstreamParams(params: Params): Params {
  if (!params) return undefined;
  const { _meta, ...rest } = params;
  if (typeof _meta !== 'object' || _meta === null) return rest;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(_meta)) {
    if (key === 'progressToken' || key.startsWith(HOP_META_PREFIX)) continue;
    kept[key] = value;
  }
  return Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest;
}

/** The progress token the client asked progress under, if any. */
export function progressTokenOf(params: Params): ProgressToken | undefined {
  const meta = params?._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const token = (meta as { progressToken?: unknown }).progressToken;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/**
 * The SDK request options for the upstream request: the deadline, the client's abort signal, and
 * when the client asked for progress, a relay of each progress notification under its token.
 * Notifications are relayed in order, and `relayed()` resolves once all have been handed to the
 * client's transport: the result must not overtake (and so cut off) the progress before it.
 */
export function upstreamRequestOptions(options: {
  timeoutMs: number;
  signal: AbortSignal;
  progressToken: ProgressToken | undefined;
  notify: (notification: {
    method: 'notifications/progress';
    params: Record<string, unknown>;
  }) => Promise<void>;
}): { options: RequestOptions; relayed(): Promise<void> } {
  const { progressToken, notify } = options;
  let relay = Promise.resolve();
  return {
    options: {
      timeout: options.timeoutMs,
      signal: options.signal,
      ...(progressToken !== undefined
        ? {
            onprogress: (progress) => {
              relay = relay
                .then(() =>
                  notify({ method: 'notifications/progress', params: { ...progress, progressToken } }),
                )
                .catch(() => {
                  // The client went away: nothing to tell.
                });
            },
          }
        : {}),
    },
    relayed: () => relay,
  };
}
