/**
 * A tool call that needs the user's upstream account (a server with a `connection`) when the
 * user has not connected it, or must reconnect it (issue #12). The call is not simply failed:
 *
 * - a client on protocol revision 2026-07-28 that declares URL-mode elicitation
 *   (`elicitation.url`) gets an `input_required` result embedding a URL-mode `elicitation/create`
 *   for the connect page; when the user accepts, the client retries the call, which waits (up to
 *   {@link CONNECT_WAIT_MS}) for the connection to land and then runs, all within one tool call;
 * - a client on a 2025 revision gets the `-32042` URLElicitationRequiredError of 2025-11-25 with
 *   the connect page (the gateway serves those revisions statelessly, so it cannot know whether
 *   the client declared URL mode; the error's message names the page for any client);
 * - any other client gets a JSON-RPC error whose message names the page.
 *
 * The connect page is Gatehouse's own (`<issuer>/connect/<id>`): opening it needs the user's
 * Gatehouse sign-in, so an elicitation relayed to someone else connects nothing of theirs.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  inputRequired,
  inputResponse,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  type ServerContext,
  UrlElicitationRequiredError,
} from '@modelcontextprotocol/server';
import type { UpstreamError } from '../upstream/errors.ts';

/** The key of the embedded elicitation in `inputRequests` / `inputResponses`. */
export const CONNECT_INPUT_KEY = 'gatehouse_connect';
/** How long a retried call waits for the connection after the user accepted to connect. */
export const CONNECT_WAIT_MS = 45_000;
/** How often the waiting call looks for the connection. */
const POLL_MS = 500;

export interface ConnectFirstOptions {
  /** The failure naming the connect page. */
  failure: UpstreamError & { connectUrl: string };
  ctx: ServerContext;
  /** Whether the user's connection is usable now (the vault has a token). */
  connected(signal: AbortSignal): Promise<boolean>;
  /** Runs the call again, once connected. */
  retry(): Promise<unknown>;
  /** Overrides {@link CONNECT_WAIT_MS} (tests). */
  waitMs?: number;
}

export async function connectFirst(options: ConnectFirstOptions): Promise<unknown> {
  const { failure, ctx } = options;
  const answer = inputResponse(ctx.mcpReq.inputResponses, CONNECT_INPUT_KEY);
  if (answer.kind === 'elicit') {
    // The retry after the elicitation: the user agreed to connect (maybe still connecting in
    // the browser), or declined; either way this call ends here or runs once connected.
    if (answer.action === 'accept' && (await waitForConnection(options))) return options.retry();
    throw notConnected(failure);
  }
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  if (envelope?.[PROTOCOL_VERSION_META_KEY] === undefined) {
    throw new UrlElicitationRequiredError(
      [{ mode: 'url', elicitationId: randomUUID(), url: failure.connectUrl, message: failure.message }],
      failure.message,
    );
  }
  const capabilities = envelope[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  if (capabilities?.elicitation?.url === undefined) throw notConnected(failure);
  return inputRequired({
    inputRequests: {
      [CONNECT_INPUT_KEY]: inputRequired.elicitUrl({ message: failure.message, url: failure.connectUrl }),
    },
  });
}

/** Polls until the connection is usable, the wait is over, or the client gave up on the call. */
async function waitForConnection(options: ConnectFirstOptions): Promise<boolean> {
  const signal = options.ctx.mcpReq.signal;
  const deadline = Date.now() + (options.waitMs ?? CONNECT_WAIT_MS);
  while (!signal.aborted) {
    if (await options.connected(signal)) return true;
    if (Date.now() + POLL_MS > deadline) return false;
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
  }
  return false;
}

/** The JSON-RPC error for a client that cannot be sent to the page: its message names the page. */
function notConnected(failure: UpstreamError & { connectUrl: string }): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InternalError, failure.message, {
    connectUrl: failure.connectUrl,
  });
}
