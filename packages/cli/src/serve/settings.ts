import {
  accessTokenTtlProblem,
  DURATION_HELP,
  type GatehouseConfig,
  parseDuration,
} from '@gatehouse/gateway';
import type { AuthorizationServerConfig } from '@gatehouse/server';
import { DEFAULT_DATA_DIR } from '../data.ts';
import { UsageError } from '../output.ts';

/** The command-line options of `gatehouse serve`, as parseArgs returns them (no defaults filled). */
export interface ServeFlags {
  config?: string | undefined;
  port?: string | undefined;
  host?: string | undefined;
  data?: string | undefined;
  issuer?: string | undefined;
  store?: string | undefined;
  'trust-proxy'?: boolean | undefined;
  'access-token-ttl'?: string | undefined;
  'refresh-token-ttl'?: string | undefined;
  'refresh-token-idle-ttl'?: string | undefined;
}

/** The AS settings `gatehouse serve` passes through from its flags and the configuration file. */
export type ServedAuthorizationServerSettings = Pick<
  AuthorizationServerConfig,
  | 'accessTokenTtl'
  | 'refreshTokenTtl'
  | 'refreshTokenIdleTtl'
  | 'registration'
  | 'tokenFailuresPer15Minutes'
  | 'loginAttemptsPer15Minutes'
  | 'clientIdMetadataDocuments'
  | 'consent'
  | 'identityProviders'
  | 'passwordSignIn'
  | 'connections'
>;

export interface ServeSettings {
  port: number;
  host: string;
  data: string;
  /** Undefined: http://HOST:PORT, known once listening. */
  issuer: string | undefined;
  store: string | undefined;
  trustProxy: boolean;
  authorizationServer: ServedAuthorizationServerSettings;
}

/** An empty environment variable means "not set", as shells often export empty variables. */
const fromEnv = (env: NodeJS.ProcessEnv, name: string) => env[name] || undefined;

/**
 * What `gatehouse serve` runs with: a flag wins over an environment variable (PORT,
 * GATEHOUSE_DATA, GATEHOUSE_ISSUER, GATEHOUSE_STORE, GATEHOUSE_TRUST_PROXY), which wins over the
 * configuration file, which wins over the default (docs/configuration.md).
 */
export function resolveServeSettings(
  flags: ServeFlags,
  env: NodeJS.ProcessEnv,
  config: GatehouseConfig | undefined,
  usage: string,
): ServeSettings {
  const portText = flags.port ?? fromEnv(env, 'PORT');
  const port = portText === undefined ? (config?.port ?? 8080) : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a port number.\n${usage}`);
  const tokens = {
    accessTokenTtl: ttlFlag(flags, 'access-token-ttl') ?? config?.tokens?.accessTokenTtl,
    refreshTokenTtl: ttlFlag(flags, 'refresh-token-ttl') ?? config?.tokens?.refreshTokenTtl,
    refreshTokenIdleTtl: ttlFlag(flags, 'refresh-token-idle-ttl') ?? config?.tokens?.refreshTokenIdleTtl,
  };
  const accessTtlProblem =
    tokens.accessTokenTtl === undefined ? undefined : accessTokenTtlProblem(tokens.accessTokenTtl);
  if (accessTtlProblem) throw new UsageError(`--access-token-ttl: ${accessTtlProblem}`);
  const rateLimits = config?.rateLimits;
  return {
    port,
    host: flags.host ?? config?.host ?? '127.0.0.1',
    data: flags.data ?? fromEnv(env, 'GATEHOUSE_DATA') ?? config?.data ?? DEFAULT_DATA_DIR,
    issuer: flags.issuer ?? fromEnv(env, 'GATEHOUSE_ISSUER') ?? config?.issuer,
    store: flags.store ?? fromEnv(env, 'GATEHOUSE_STORE') ?? config?.store,
    trustProxy:
      flags['trust-proxy'] === true || env.GATEHOUSE_TRUST_PROXY === '1' || config?.trustProxy === true,
    authorizationServer: defined({
      ...tokens,
      tokenFailuresPer15Minutes: rateLimits?.tokenFailuresPer15Minutes,
      loginAttemptsPer15Minutes: rateLimits?.loginAttemptsPer15Minutes,
      registration: config?.registration,
      clientIdMetadataDocuments: config?.clientIdMetadataDocuments,
      consent: config?.consent,
      identityProviders: identityProviders(config),
      passwordSignIn: config?.passwordSignIn,
      connections: vaultConnections(config),
    }),
  };
}

/**
 * The file's `identityProviders` (a record by id) as the AS takes them (a list). The schema allows
 * http only on loopback hosts, so a provider with an http URL is one beside Gatehouse in development.
 */
function identityProviders(
  config: GatehouseConfig | undefined,
): AuthorizationServerConfig['identityProviders'] {
  if (!config?.identityProviders) return undefined;
  return Object.entries(config.identityProviders).map(([id, provider]) => ({
    id,
    ...provider,
    dangerouslyAllowInsecureHttp: [
      provider.issuer,
      provider.authorizationEndpoint,
      provider.tokenEndpoint,
      provider.userinfoEndpoint,
    ].some((url) => url?.startsWith('http:')),
  }));
}

/**
 * The file's `connections` as the token vault takes them, by id; `env` stays with the gateway
 * (it names the variable a stdio server gets the token in).
 */
export function vaultConnections(
  config: GatehouseConfig | undefined,
): AuthorizationServerConfig['connections'] {
  if (!config?.connections) return undefined;
  return new Map(
    Object.entries(config.connections).map(([id, { env: _env, scopes, ...connection }]) => [
      id,
      { ...connection, scopes: scopes ?? [] },
    ]),
  );
}

/** A `--*-ttl` flag in seconds; a malformed one is a usage error naming the flag. */
function ttlFlag(
  flags: ServeFlags,
  name: 'access-token-ttl' | 'refresh-token-ttl' | 'refresh-token-idle-ttl',
) {
  const text = flags[name];
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds === undefined) throw new UsageError(`--${name}: expected ${DURATION_HELP}`);
  return seconds;
}

/** The AS fills its own defaults: absent settings are left out rather than passed as undefined. */
function defined<T extends object>(settings: T): T {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as T;
}
