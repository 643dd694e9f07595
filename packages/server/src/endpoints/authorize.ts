import { isValidCodeChallenge, matchRedirectUri, OAuthError, parseScope, randomToken } from '@gatehouse/core';
import { ClientBlockedError } from '../clients/registry.ts';
import { checkScopeWithin, defaultScope, scopeCeiling } from '../clients/scope-policy.ts';
import type { Context } from '../context.ts';
import { queryParams, readForm } from '../http/form.ts';
import type { ClientRecord } from '../store/types.ts';

/** A validated authorization request, parked while the user signs in and consents. */
export interface PendingAuthorization {
  client_id: string;
  redirect_uri: string;
  /** Whether the request named `redirect_uri` (then the token request must repeat it). */
  redirect_uri_explicit: boolean;
  scope: string[];
  resource: string;
  state?: string | undefined;
  code_challenge: string;
}

/** Interactions expire after ten minutes: long enough to sign in, short enough to be useless if leaked. */
const INTERACTION_TTL = 600;

/** The two failure modes of RFC 6749 §4.1.2.1: show a page, or redirect with the error. */
export class AuthorizationPageError extends Error {
  readonly title: string;
  constructor(title: string, message: string) {
    super(message);
    this.title = title;
  }
}

export class AuthorizationRedirectError extends Error {
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly error: OAuthError;
  constructor(redirectUri: string, state: string | undefined, error: OAuthError) {
    super(error.message);
    this.redirectUri = redirectUri;
    this.state = state;
    this.error = error;
  }
}

async function checkClient(ctx: Context, clientId: string | undefined): Promise<ClientRecord> {
  if (!clientId)
    throw new AuthorizationPageError(
      'Unknown application',
      'The request does not say which application is asking (client_id is missing).',
    );
  try {
    return await ctx.clients.get(clientId);
  } catch (err) {
    if (err instanceof ClientBlockedError) {
      throw new AuthorizationPageError(
        'Application blocked',
        'An administrator of this server has blocked this application, so it cannot sign you in.',
      );
    }
    const detail = err instanceof OAuthError && err.description ? ` ${err.description}` : '';
    throw new AuthorizationPageError(
      'Unknown application',
      `This application is not registered with this server.${detail}`,
    );
  }
}

function checkRedirectUri(client: ClientRecord, requested: string | undefined): string {
  if (requested === undefined) {
    // OAuth 2.1 §4.1.1: optional only when exactly one redirect URI is registered.
    if (client.redirect_uris.length === 1) return client.redirect_uris[0] as string;
    throw new AuthorizationPageError('Invalid request', 'redirect_uri is required for this application.');
  }
  if (!matchRedirectUri(client.redirect_uris, requested)) {
    throw new AuthorizationPageError(
      'Invalid redirect',
      'The redirect URI in this request is not registered for this application, so Gatehouse will not send you there.',
    );
  }
  return requested;
}

/** The requested scope, or the client's default; within its ceiling (see clients/scope-policy.ts). */
function checkScope(ctx: Context, client: ClientRecord, requested: string | undefined): string[] {
  const named = parseScope(requested);
  const scopes = named.length ? named : defaultScope(client, ctx.config.defaultScopes);
  checkScopeWithin(scopes, ctx.catalogue, scopeCeiling(client));
  return scopes;
}

/**
 * Validates an authorization request (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1, RFC 7636, RFC 8707).
 * Client and redirect URI problems throw `AuthorizationPageError` (never redirect to an
 * unverified URI); everything after that throws `AuthorizationRedirectError`.
 */
export async function parseAuthorizationRequest(
  ctx: Context,
  request: Request,
): Promise<PendingAuthorization> {
  let params: Map<string, string>;
  try {
    params = request.method === 'POST' ? await readForm(request) : queryParams(request);
  } catch (err) {
    throw new AuthorizationPageError(
      'Invalid request',
      err instanceof OAuthError ? (err.description ?? '') : 'The request is malformed.',
    );
  }
  const client = await checkClient(ctx, params.get('client_id'));
  const redirectUri = checkRedirectUri(client, params.get('redirect_uri'));
  const state = params.get('state');
  try {
    if (params.get('response_type') !== 'code') {
      throw new OAuthError('unsupported_response_type', 'Only response_type=code is supported.');
    }
    if (!client.grant_types.includes('authorization_code')) {
      throw new OAuthError(
        'unauthorized_client',
        'This application may not use the authorization code grant.',
      );
    }
    const challenge = params.get('code_challenge');
    if (!challenge)
      throw new OAuthError(
        'invalid_request',
        'PKCE is required: send code_challenge with code_challenge_method=S256.',
      );
    if (params.get('code_challenge_method') !== 'S256') {
      throw new OAuthError('invalid_request', 'code_challenge_method must be S256.');
    }
    if (!isValidCodeChallenge(challenge))
      throw new OAuthError('invalid_request', 'code_challenge is malformed.');
    const resource = params.get('resource') ?? ctx.config.defaultResource;
    if (!ctx.config.resources.includes(resource)) {
      throw new OAuthError('invalid_target', 'This server does not issue tokens for the requested resource.');
    }
    return {
      client_id: client.client_id,
      redirect_uri: redirectUri,
      redirect_uri_explicit: params.has('redirect_uri'),
      scope: checkScope(ctx, client, params.get('scope')),
      resource,
      state,
      code_challenge: challenge,
    };
  } catch (err) {
    if (err instanceof OAuthError) throw new AuthorizationRedirectError(redirectUri, state, err);
    throw err;
  }
}

/**
 * Whether `id` has the shape of an interaction id (`randomToken(24)` below): anything else names no
 * interaction, and is turned away before the store is asked.
 */
export function isInteractionId(id: string): boolean {
  return /^[A-Za-z0-9_-]{20,64}$/.test(id);
}

export async function savePendingAuthorization(ctx: Context, pending: PendingAuthorization): Promise<string> {
  const id = randomToken(24);
  await ctx.store.saveInteraction({
    id,
    request: JSON.stringify(pending),
    expires_at: ctx.now() + INTERACTION_TTL,
  });
  return id;
}

export async function loadPendingAuthorization(
  ctx: Context,
  id: string,
): Promise<PendingAuthorization | undefined> {
  const record = await ctx.store.getInteraction(id, ctx.now());
  return record && (JSON.parse(record.request) as PendingAuthorization);
}

/** Issues the code and builds the success redirect (RFC 6749 §4.1.2, RFC 9207 §2). */
export async function issueCode(
  ctx: Context,
  pending: PendingAuthorization,
  userId: string,
  options: { offlineDeclined?: boolean } = {},
): Promise<Response> {
  const code = randomToken(32);
  await ctx.store.saveCode({
    code_hash: ctx.secrets.hash(code),
    client_id: pending.client_id,
    user_id: userId,
    redirect_uri: pending.redirect_uri_explicit ? pending.redirect_uri : '',
    code_challenge: pending.code_challenge,
    resource: pending.resource,
    scope: pending.scope.join(' '),
    expires_at: ctx.now() + ctx.config.codeTtl,
    ...(options.offlineDeclined ? { offline_declined: true } : {}),
  });
  const url = new URL(pending.redirect_uri);
  url.searchParams.set('code', code);
  if (pending.state !== undefined) url.searchParams.set('state', pending.state);
  url.searchParams.set('iss', ctx.config.issuer);
  return new Response(null, { status: 302, headers: { location: url.href, 'cache-control': 'no-store' } });
}
