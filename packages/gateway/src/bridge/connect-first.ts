/**
 * A tool call that needs the user's upstream account (a server with a `connection`) when the
 * user has not connected it, or must reconnect it (issue #12). The call is not simply failed:
 *
 * - a client on protocol revision 2026-07-28 that declares URL-mode elicitation
 *   (`elicitation.url`) gets an `input_required` result embedding a URL-mode `elicitation/create`
 *   for the connect page, with a `requestState` only this gateway can mint; when the user
 *   accepts, the client retries the call with both, and the retry waits (up to
 *   {@link CONNECT_WAIT_MS}) for the connection to land and then runs, all within one tool call;
 * - a 2026-07-28 client without it gets -32021 (missing required client capability: URL-mode
 *   elicitation), whose message names the page;
 * - a client on a 2025 revision gets the -32042 URLElicitationRequiredError of 2025-11-25 with
 *   the connect page. The gateway serves those revisions statelessly, so it cannot know whether
 *   the client declared URL mode (2025-11-25 asks servers not to use it otherwise): a deliberate
 *   departure, since the error's message names the page for any client.
 *
 * The connect page is Gatehouse's own (`<issuer>/connect/<id>`): opening it needs the user's
 * Gatehouse sign-in, so an elicitation relayed to someone else connects nothing of theirs.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { constantTimeEqual } from '@gatehouse/core';
import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  inputRequired,
  inputResponse,
  MissingRequiredClientCapabilityError,
  PROTOCOL_VERSION_META_KEY,
  type ServerContext,
  UrlElicitationRequiredError,
} from '@modelcontextprotocol/server';
import type { UpstreamError } from '../upstream/errors.ts';

/** The key of the embedded elicitation in `inputRequests` / `inputResponses`. */
export const CONNECT_INPUT_KEY = 'gatehouse_connect';
/**
 * How long a retried call waits for the connection after the user accepted to connect: room to
 * finish signing in at the upstream, and with the call itself within a client's usual 60 s.
 */
export const CONNECT_WAIT_MS = 25_000;
/** How long the `requestState` of an elicitation stays good for its retry. */
const STATE_SECONDS = 600;
/** How often the waiting call looks for the connection. */
const POLL_MS = 500;

export interface ConnectFirstOptions {
  /** The failure naming the connect page. */
  failure: UpstreamError & { connectUrl: string };
  ctx: ServerContext;
  /** Who calls, for binding the request state to them. */
  userId: string;
  /** A keyed MAC (the gateway's `mac`), so that only this gateway mints request states. */
  mac(purpose: string, value: string): string;
  /** Waits until the user's connection is usable, or the signal ends the wait; true when it is. */
  waitForConnection(signal: AbortSignal): Promise<boolean>;
  /** Runs the call again, once connected. */
  retry(): Promise<unknown>;
}

export async function connectFirst(options: ConnectFirstOptions): Promise<unknown> {
  const { failure, ctx } = options;
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  if (envelope?.[PROTOCOL_VERSION_META_KEY] === undefined) {
    throw new UrlElicitationRequiredError(
      [{ mode: 'url', elicitationId: randomUUID(), url: failure.connectUrl, message: failure.message }],
      failure.message,
    );
  }
  const capabilities = envelope[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined;
  if (capabilities?.elicitation?.url === undefined) throw urlModeRequired(failure);
  const subject = JSON.stringify([options.userId, failure.server, failure.connectUrl]);
  const answer = inputResponse(ctx.mcpReq.inputResponses, CONNECT_INPUT_KEY);
  // A retry counts only with a request state this gateway minted for this user and server, so
  // nobody can hold calls open by sending an answer to a question that was never asked.
  if (answer.kind === 'elicit' && validState(options, subject, ctx.mcpReq.requestState())) {
    if (answer.action === 'accept') {
      const wait = AbortSignal.any([ctx.mcpReq.signal, AbortSignal.timeout(CONNECT_WAIT_MS)]);
      if (await options.waitForConnection(wait)) return options.retry();
    }
    throw urlModeRequired(failure);
  }
  const issued = Math.floor(Date.now() / 1000).toString();
  return inputRequired({
    inputRequests: {
      [CONNECT_INPUT_KEY]: inputRequired.elicitUrl({ message: failure.message, url: failure.connectUrl }),
    },
    requestState: `${issued}.${options.mac('connect-request-state', `${issued}.${subject}`)}`,
  });
}

/** -32021: connecting takes URL-mode elicitation; the message names the page for the user. */
function urlModeRequired(failure: UpstreamError): MissingRequiredClientCapabilityError {
  return new MissingRequiredClientCapabilityError(
    { requiredCapabilities: { elicitation: { url: {} } } },
    failure.message,
  );
}

function validState(options: ConnectFirstOptions, subject: string, state: unknown): boolean {
  if (typeof state !== 'string') return false;
  const [issued = '', mac] = state.split('.', 2);
  const age = Math.floor(Date.now() / 1000) - Number(issued);
  if (!/^\d{1,12}$/.test(issued) || !(age >= 0 && age <= STATE_SECONDS)) return false;
  return (
    mac !== undefined && constantTimeEqual(mac, options.mac('connect-request-state', `${issued}.${subject}`))
  );
}

/** Polls `connected` until it answers true or `signal` ends the wait. */
export async function pollUntil(connected: () => Promise<boolean>, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    if (await connected()) return true;
    await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
  }
  return false;
}
