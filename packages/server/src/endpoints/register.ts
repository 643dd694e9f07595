import {
  jsonResponse,
  OAuthError,
  OFFLINE_ACCESS,
  parseScope,
  randomToken,
  tooManyRequests,
} from '@gatehouse/core';
import { clientMetadataValidator, DCR_PROFILE } from '../clients/metadata.ts';
import type { Context } from '../context.ts';
import { readJson } from '../http/form.ts';
import type { ClientRecord } from '../store/types.ts';
import { CLIENT_SECRET_PREFIX, createOpaqueToken } from '../tokens/opaque.ts';

/**
 * RFC 7591 §2 client metadata, by the same rules as Client ID Metadata Documents. Unknown members
 * are ignored (§3.1.1: "the authorization server MUST ignore any client metadata sent by the
 * client that it does not understand").
 */
const validateMetadata = clientMetadataValidator(DCR_PROFILE);

const HOUR = 3600;

/** `POST /oauth/register` (RFC 7591 §3): open registration, rate-limited per address and capped. */
export async function registerEndpoint(
  ctx: Context,
  request: Request,
  remoteAddress = 'unknown',
): Promise<Response> {
  const { registration } = ctx.config;
  const now = ctx.now();
  if ((await ctx.store.hitRateLimit(`register:${remoteAddress}`, HOUR, now)) > registration.perIpPerHour) {
    throw tooManyRequests('Too many registrations from this address; try again later.', HOUR - (now % HOUR));
  }
  if ((await ctx.store.countClients('dcr')) >= registration.maxClients) {
    throw new OAuthError('temporarily_unavailable', 'This server accepts no more registrations.');
  }
  const parsed = validateMetadata(await readJson(request));
  if (!parsed.ok) {
    const { field, sentence } = parsed.problem;
    throw new OAuthError(
      field.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata',
      sentence,
    );
  }
  const meta = parsed.metadata;
  if (meta.grant_types.includes('client_credentials') && !registration.clientCredentials) {
    throw new OAuthError(
      'invalid_client_metadata',
      'grant_types holds client_credentials, which this server allows only for clients its administrator registers (gatehouse clients add --confidential): no person would approve what a self-registered client gets.',
    );
  }
  // Only scopes this server offers: a registration is a default, and one nobody could be granted is a mistake.
  const unknown = parseScope(meta.scope).find((s) => s !== OFFLINE_ACCESS && !ctx.catalogue.has(s));
  if (unknown) {
    throw new OAuthError(
      'invalid_client_metadata',
      `scope holds "${unknown}", which this server does not offer.`,
    );
  }
  const confidential = meta.token_endpoint_auth_method !== 'none';
  const clientSecret = confidential ? createOpaqueToken(CLIENT_SECRET_PREFIX) : undefined;
  const client: ClientRecord = {
    client_id: randomToken(16),
    kind: 'dcr',
    client_name: meta.client_name ?? 'Unnamed application',
    redirect_uris: meta.redirect_uris,
    token_endpoint_auth_method: meta.token_endpoint_auth_method,
    grant_types: meta.grant_types,
    scope: meta.scope,
    application_type: meta.application_type,
    client_uri: meta.client_uri,
    logo_uri: meta.logo_uri,
    secret_hash: clientSecret && ctx.secrets.hash(clientSecret),
    created_at: now,
  };
  await ctx.store.createClient(client);
  await ctx.audit({ type: 'client.registered', client_id: client.client_id, detail: { remoteAddress } });
  const { secret_hash: _, kind: __, created_at, ...published } = client;
  return jsonResponse(
    {
      ...published,
      ...(clientSecret ? { client_secret: clientSecret, client_secret_expires_at: 0 } : {}),
      client_id_issued_at: created_at,
    },
    201,
  );
}
