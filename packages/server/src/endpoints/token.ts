import { errorResponse, jsonResponse, OAuthError } from '@gatehouse/core';
import { authenticateClient } from '../clients/authenticate.ts';
import type { Context } from '../context.ts';
import { authorizationCodeGrant } from '../grants/authorization-code.ts';
import { clientCredentialsGrant } from '../grants/client-credentials.ts';
import { refreshTokenGrant } from '../grants/refresh-token.ts';
import { readForm } from '../http/form.ts';
import type { TokenFailureLimit } from './token-failure-limit.ts';

/**
 * `POST /oauth/token` (RFC 6749 §3.2): parse, authenticate the client, run the grant.
 * Failures are counted per address (see TokenFailureLimit).
 */
export async function tokenEndpoint(
  ctx: Context,
  request: Request,
  limit: TokenFailureLimit,
  remoteAddress = 'unknown',
): Promise<Response> {
  try {
    limit.check(remoteAddress);
    return await issue(ctx, request);
  } catch (err) {
    const failure =
      err instanceof OAuthError && (err.code === 'invalid_client' || err.code === 'invalid_grant');
    // Over the limit, the failure itself is answered with 429.
    const refusal = failure
      ? await limit.fail(remoteAddress).then(
          () => undefined,
          (e: unknown) => e,
        )
      : undefined;
    return errorResponse(refusal ?? err);
  }
}

async function issue(ctx: Context, request: Request): Promise<Response> {
  const form = await readForm(request);
  const grantType = form.get('grant_type');
  if (!grantType) throw new OAuthError('invalid_request', 'grant_type is required.');
  // A Map, never a plain object: `constructor` or `__proto__` must not name anything here.
  const grant = grants.get(grantType);
  if (!grant)
    throw new OAuthError('unsupported_grant_type', `The grant type "${grantType}" is not supported.`);
  const client = await authenticateClient(ctx, request, form);
  if (!client.grant_types.includes(grantType)) {
    throw new OAuthError('unauthorized_client', `This client may not use the ${grantType} grant.`);
  }
  return jsonResponse(await grant(ctx, client, form));
}

const grants = new Map<string, typeof authorizationCodeGrant>([
  ['authorization_code', authorizationCodeGrant],
  ['refresh_token', refreshTokenGrant],
  ['client_credentials', clientCredentialsGrant],
]);
