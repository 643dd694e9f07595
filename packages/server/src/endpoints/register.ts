import { errorResponse, jsonResponse, OAuthError, parseScope, randomToken } from '@gatehouse/core';
import { z } from 'zod';
import { validateRedirectUri } from '../clients/redirect-uri.ts';
import type { Context } from '../context.ts';
import { readJson } from '../http/form.ts';
import type { ClientRecord } from '../store/types.ts';
import { CLIENT_SECRET_PREFIX, createOpaqueToken } from '../tokens/opaque.ts';

const httpsOrLoopbackUrl = z.string().max(2000).url();

/**
 * RFC 7591 §2 client metadata. Unknown members are ignored (§3.1.1: "the authorization server
 * MUST ignore any client metadata sent by the client that it does not understand").
 */
const clientMetadataSchema = z.object({
  redirect_uris: z.array(z.string().max(2000)).min(1).max(20),
  token_endpoint_auth_method: z
    .enum(['none', 'client_secret_basic', 'client_secret_post'])
    .default('client_secret_basic'),
  grant_types: z
    .array(z.string())
    .default(['authorization_code'])
    .refine(
      (g) => g.every((t) => ['authorization_code', 'refresh_token', 'client_credentials'].includes(t)),
      {
        message: 'grant_types may hold authorization_code, refresh_token and client_credentials',
      },
    ),
  response_types: z
    .array(z.string())
    .default(['code'])
    .refine((r) => r.every((t) => t === 'code'), { message: 'response_types may hold only "code"' }),
  client_name: z.string().trim().min(1).max(100).optional(),
  client_uri: httpsOrLoopbackUrl.optional(),
  logo_uri: httpsOrLoopbackUrl.optional(),
  scope: z.string().max(1000).optional(),
  application_type: z.enum(['web', 'native']).optional(),
  software_id: z.string().max(200).optional(),
  software_version: z.string().max(100).optional(),
});

const HOUR = 3600;

/** `POST /oauth/register` (RFC 7591 §3): open registration, rate-limited per address and capped. */
export async function registerEndpoint(
  ctx: Context,
  request: Request,
  remoteAddress = 'unknown',
): Promise<Response> {
  try {
    if (request.method !== 'POST') throw new OAuthError('invalid_request', 'Registration accepts POST only.');
    const { registration } = ctx.config;
    const now = ctx.now();
    if ((await ctx.store.hitRateLimit(`register:${remoteAddress}`, HOUR, now)) > registration.perIpPerHour) {
      throw new OAuthError('slow_down', 'Too many registrations from this address; try again later.', {
        status: 429,
        headers: { 'retry-after': String(HOUR - (now % HOUR)) },
      });
    }
    if ((await ctx.store.countClients('dcr')) >= registration.maxClients) {
      throw new OAuthError('temporarily_unavailable', 'This server accepts no more registrations.');
    }
    const parsed = clientMetadataSchema.safeParse(await readJson(request));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join('.') || 'body';
      const code = field.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata';
      throw new OAuthError(code, `${field}: ${issue?.message ?? 'invalid'}`);
    }
    const meta = parsed.data;
    for (const uri of meta.redirect_uris) validateRedirectUri(uri);
    if (meta.scope !== undefined) {
      let scopes: string[];
      try {
        scopes = parseScope(meta.scope);
      } catch {
        throw new OAuthError('invalid_client_metadata', 'scope is malformed.');
      }
      const unknown = scopes.find((s) => s !== 'offline_access' && !ctx.catalogue.has(s));
      if (unknown)
        throw new OAuthError(
          'invalid_client_metadata',
          `The scope "${unknown}" is not offered by this server.`,
        );
    }
    const confidential = meta.token_endpoint_auth_method !== 'none';
    if (meta.grant_types.includes('client_credentials') && !confidential) {
      throw new OAuthError('invalid_client_metadata', 'client_credentials needs a confidential client.');
    }
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
  } catch (err) {
    return errorResponse(err);
  }
}
