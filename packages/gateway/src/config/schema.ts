/**
 * The Gatehouse configuration file (`gatehouse.json`): the authorization server's settings and the
 * MCP servers the gateway protects. Every key, with its default, is described in
 * docs/configuration.md; the defaults the gateway applies are `serverDefaults` below.
 *
 * The schema refuses unknown keys (a typo must not silently turn a setting off) and its messages
 * say what is expected, never what was found (a value may be a secret).
 */
import { isLoopbackHost, parseScope, unstableSubjectProblem } from '@gatehouse/core';
import { z } from 'zod';
import { ACCESS_TOKEN_TTL_RANGE, DURATION_HELP, parseDuration } from './duration.ts';

/** Server names become a path (`/mcp/<name>`) and a scope (`tools:execute:<name>`). */
export const SERVER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** What the gateway does when a key is absent; docs/configuration.md lists the same values. */
export const serverDefaults = {
  readOnlyScope: false,
  process: { mode: 'shared', idleSeconds: 300, maxProcesses: 10 },
  timeoutMs: 30_000,
  listAll: false,
  audit: { arguments: 'none' },
  identityAssertion: false,
  challengeScopes: 'all',
} as const;

/** Records become null-prototype objects: a key such as `constructor` or `__proto__` is only ever data. */
const record = <V extends z.ZodType>(key: z.ZodString, value: V) =>
  z
    .record(key, value)
    .transform((entries) => Object.assign(Object.create(null) as Record<string, z.output<V>>, entries));

const nonEmpty = z.string().min(1, { error: 'expected a non-empty string' });
const positiveInt = (what: string) =>
  z.int({ error: `expected ${what} (a whole number)` }).min(1, { error: `expected ${what} of at least 1` });

const isScopeToken = (value: string) => {
  try {
    return parseScope(value).length === 1 && !value.includes(' ');
  } catch {
    return false;
  }
};
const scopeToken = z.string().refine(isScopeToken, {
  error: 'expected one scope (RFC 6749 §3.3 characters, no spaces)',
});

/** An upstream URL: https, or http on a loopback host (an upstream beside Gatehouse). */
const upstreamUrl = z.string().refine(
  (value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    if (url.username || url.password || url.hash) return false;
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  },
  {
    error:
      'expected an https or loopback URL (http only on 127.0.0.1, [::1] or localhost; no user info or fragment)',
  },
);

/** Headers the HTTP transport sets itself; configuring them would break the protocol or the connection. */
const TRANSPORT_HEADERS = new Set([
  'accept',
  'connection',
  'content-length',
  'content-type',
  'host',
  'keep-alive',
  'mcp-protocol-version',
  'mcp-session-id',
  'te',
  'transfer-encoding',
  'upgrade',
]);
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'expected an HTTP header name (RFC 9110 §5.1)' })
  .refine((name) => !TRANSPORT_HEADERS.has(name.toLowerCase()), {
    error: 'is set by the MCP transport and cannot be configured',
  });
const headerValue = z
  .string()
  .regex(/^[^\r\n\0]*$/, { error: 'expected a header value without line breaks or NUL' });

/** Durations: whole seconds or `15m`, `1h`, `30d`; the parsed value is in seconds. */
const duration = z
  .union([z.number(), z.string()], { error: `expected ${DURATION_HELP}` })
  .transform((value, ctx) => {
    const seconds = parseDuration(value);
    if (seconds === undefined) {
      ctx.issues.push({ code: 'custom', input: value, message: `expected ${DURATION_HELP}` });
      return z.NEVER;
    }
    return seconds;
  });

const TOOL_SCOPE_PARENT = 'tools:execute';

/** The placeholder a per-user process's args, env and cwd may hold (the pool replaces it). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the literal placeholder users write
export const USER_PLACEHOLDER = '${user}';

export const mcpServerSchema = z
  .strictObject({
    // stdio, as desktop MCP clients write it
    command: nonEmpty.optional(),
    args: z
      .array(z.string({ error: 'expected a string' }), { error: 'expected an array of strings' })
      .optional(),
    env: record(z.string(), z.string({ error: 'expected a string' })).optional(),
    cwd: nonEmpty.optional(),
    // Streamable HTTP
    url: upstreamUrl.optional(),
    headers: record(headerName, headerValue).optional(),
    // Gatehouse's own keys
    title: nonEmpty.max(100, { error: 'expected a title of at most 100 characters' }).optional(),
    tools: record(
      z.string().min(1, { error: 'expected a tool name' }),
      z.strictObject({
        scope: scopeToken.refine((s) => s.startsWith(`${TOOL_SCOPE_PARENT}:`), {
          error: `expected a scope under ${TOOL_SCOPE_PARENT}, e.g. ${TOOL_SCOPE_PARENT}:github:read`,
        }),
      }),
    ).optional(),
    readOnlyScope: z.boolean({ error: 'expected true or false' }).optional(),
    process: z
      .strictObject({
        mode: z.enum(['shared', 'per-user'], { error: 'expected "shared" or "per-user"' }).optional(),
        idleSeconds: positiveInt('a number of seconds').optional(),
        maxProcesses: positiveInt('a number of processes').optional(),
      })
      .optional(),
    timeoutMs: positiveInt('a number of milliseconds')
      .max(600_000, { error: 'expected at most 600000 milliseconds (10 minutes)' })
      .optional(),
    listAll: z.boolean({ error: 'expected true or false' }).optional(),
    audit: z
      .strictObject({
        arguments: z.enum(['none', 'hashed'], { error: 'expected "none" or "hashed"' }).optional(),
      })
      .optional(),
    identityAssertion: z.boolean({ error: 'expected true or false' }).optional(),
    /** The upstream API connection (an id under the top-level `connections`) whose per-user token the upstream gets. */
    connection: z.string().regex(SERVER_NAME, { error: 'expected a connection id' }).optional(),
    challengeScopes: z
      .union([z.literal('all'), z.array(scopeToken).min(1, { error: 'expected at least one scope' })], {
        error: 'expected "all" or a list of scopes',
      })
      .optional(),
  })
  .superRefine((server, ctx) => {
    const stdio = server.command !== undefined;
    const http = server.url !== undefined;
    if (stdio === http) {
      ctx.addIssue({
        code: 'custom',
        message: stdio
          ? 'expected either command (stdio) or url (Streamable HTTP), not both'
          : 'expected command (a stdio server) or url (a Streamable HTTP server)',
      });
      return;
    }
    const misplaced = (keys: readonly (keyof typeof server)[], only: string) => {
      for (const key of keys)
        if (server[key] !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: `applies to ${only} servers only` });
    };
    if (http) misplaced(['args', 'env', 'cwd', 'process'], 'stdio (command)');
    else misplaced(['headers', 'identityAssertion'], 'Streamable HTTP (url)');
    // A shared process would hold one user's upstream token on everyone's behalf.
    if (stdio && server.connection !== undefined && server.process?.mode !== 'per-user')
      ctx.addIssue({
        code: 'custom',
        path: ['connection'],
        message: 'on a stdio server needs "process": { "mode": "per-user" }',
      });
    // `${user}` is replaced only for per-user processes; in a shared one it would reach the upstream as is.
    if (stdio && server.process?.mode !== 'per-user') {
      const mentions = (value: string | undefined) => value?.includes(USER_PLACEHOLDER) === true;
      const where: (string | number)[][] = [];
      for (const [i, arg] of (server.args ?? []).entries()) if (mentions(arg)) where.push(['args', i]);
      for (const [key, value] of Object.entries(server.env ?? {}))
        if (mentions(value)) where.push(['env', key]);
      if (mentions(server.cwd)) where.push(['cwd']);
      for (const path of where)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${USER_PLACEHOLDER} needs "process": { "mode": "per-user" }`,
        });
    }
  });

/** https, or http on a loopback host (a provider beside Gatehouse, in development). */
const providerUrl = z.string().refine(
  (value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  },
  { error: 'expected an https URL (http only on 127.0.0.1, [::1] or localhost)' },
);

/** RFC 6749 §2.3.1: the client secret in the Authorization header (Basic) or in the form body. */
const clientAuthentication = z.enum(['client_secret_basic', 'client_secret_post'], {
  error: 'expected "client_secret_basic" or "client_secret_post"',
});

/** One upstream identity provider people sign in with ("Continue with …"); see docs/configuration.md. */
export const identityProviderSchema = z
  .strictObject({
    name: nonEmpty.max(60, { error: 'expected a name of at most 60 characters' }),
    type: z.enum(['oidc', 'oauth2'], { error: 'expected "oidc" or "oauth2"' }).optional(),
    issuer: providerUrl.optional(),
    authorizationEndpoint: providerUrl.optional(),
    tokenEndpoint: providerUrl.optional(),
    userinfoEndpoint: providerUrl.optional(),
    clientId: nonEmpty,
    /** Always an `${env:NAME}` reference (the loader refuses an inline secret). */
    clientSecret: nonEmpty.optional(),
    /** How Gatehouse authenticates at the token endpoint (RFC 6749 §2.3.1). Default client_secret_post. */
    clientAuthentication: clientAuthentication.optional(),
    scopes: z.array(scopeToken, { error: 'expected a list of scopes' }).optional(),
    claims: z
      .strictObject({ subject: nonEmpty.optional(), name: nonEmpty.optional(), email: nonEmpty.optional() })
      .optional(),
    allowedEmailDomains: z
      .array(z.string().regex(/^[A-Za-z0-9.-]+$/, { error: 'expected a domain such as example.com' }), {
        error: 'expected a list of domains',
      })
      .optional(),
    requiredClaim: z.strictObject({ claim: nonEmpty, value: nonEmpty }).optional(),
    /** The provider's email counts as verified when it sends no `email_verified` (GitHub-style). */
    dangerouslyTrustUnverifiedEmail: z.boolean({ error: 'expected true or false' }).optional(),
  })
  .superRefine((provider, ctx) => {
    const subject = provider.claims?.subject;
    const unstable = subject === undefined ? undefined : unstableSubjectProblem(subject);
    if (unstable) ctx.addIssue({ code: 'custom', path: ['claims', 'subject'], message: unstable });
    const need = (key: keyof typeof provider, type: string) => {
      if (provider[key] === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `is required for a provider of type ${type}` });
    };
    if ((provider.type ?? 'oidc') === 'oidc') need('issuer', 'oidc');
    else
      for (const key of ['authorizationEndpoint', 'tokenEndpoint', 'userinfoEndpoint'] as const)
        need(key, 'oauth2');
  });

/**
 * One upstream API whose users' tokens the token vault keeps (issue #12): its OAuth endpoints,
 * Gatehouse's client there (secret by `${env:NAME}` only), the scopes asked for, and `env`, the
 * variable a per-user stdio server receives the user's token in. See docs/configuration.md.
 */
export const connectionSchema = z.strictObject({
  authorizationEndpoint: providerUrl,
  tokenEndpoint: providerUrl,
  revocationEndpoint: providerUrl.optional(),
  issuer: providerUrl.optional(),
  clientId: nonEmpty,
  /** Always an `${env:NAME}` reference (the loader refuses an inline secret). */
  clientSecret: nonEmpty,
  /** How Gatehouse authenticates at the token endpoint (RFC 6749 §2.3.1). Default client_secret_post. */
  clientAuthentication: clientAuthentication.optional(),
  scopes: z.array(scopeToken, { error: 'expected a list of scopes' }).optional(),
  env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
      error: 'expected an environment variable name such as GITHUB_TOKEN',
    })
    .optional(),
});

export const gatehouseConfigSchema = z
  .strictObject({
    /** Editors' JSON Schema pointer; ignored. */
    $schema: z.string().optional(),
    issuer: z
      .string()
      .refine((value) => URL.canParse(value), { error: 'expected a URL such as https://auth.example.com' })
      .optional(),
    host: nonEmpty.optional(),
    port: z
      .int({ error: 'expected a port number' })
      .min(0, { error: 'expected a port number from 0 to 65535' })
      .max(65535, { error: 'expected a port number from 0 to 65535' })
      .optional(),
    data: nonEmpty.optional(),
    store: z
      .string()
      .regex(/^postgres(ql)?:\/\//, {
        error: 'expected a postgres:// URL (or leave it out for SQLite in the data folder)',
      })
      .optional(),
    trustProxy: z.boolean({ error: 'expected true or false' }).optional(),
    tokens: z
      .strictObject({
        accessTokenTtl: duration
          .refine((s) => s >= ACCESS_TOKEN_TTL_RANGE.min && s <= ACCESS_TOKEN_TTL_RANGE.max, {
            error: 'expected an access-token lifetime from 15m to 1h',
          })
          .optional(),
        refreshTokenTtl: duration.optional(),
        refreshTokenIdleTtl: duration.optional(),
      })
      .optional(),
    rateLimits: z
      .strictObject({
        tokenFailuresPer15Minutes: positiveInt('a number of failures').optional(),
        loginAttemptsPer15Minutes: positiveInt('a number of attempts').optional(),
      })
      .optional(),
    registration: z
      .strictObject({
        enabled: z.boolean({ error: 'expected true or false' }).optional(),
        maxClients: positiveInt('a number of clients').optional(),
        perIpPerHour: positiveInt('a number of registrations').optional(),
        clientCredentials: z.boolean({ error: 'expected true or false' }).optional(),
      })
      .optional(),
    clientIdMetadataDocuments: z
      .strictObject({ enabled: z.boolean({ error: 'expected true or false' }).optional() })
      .optional(),
    consent: z
      .strictObject({
        required: z.array(scopeToken, { error: 'expected a list of scopes' }).optional(),
        uncheckedByDefault: z.array(scopeToken, { error: 'expected a list of scopes' }).optional(),
      })
      .optional(),
    identityProviders: record(
      z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, {
        error: 'expected a provider id of lower-case letters, digits and -, at most 32 characters',
      }),
      identityProviderSchema,
    ).optional(),
    passwordSignIn: z.boolean({ error: 'expected true or false' }).optional(),
    connections: record(
      z.string().regex(SERVER_NAME, {
        error: 'expected a connection id of lower-case letters, digits and -, at most 63 characters',
      }),
      connectionSchema,
    ).optional(),
    mcpServers: record(
      z.string().regex(SERVER_NAME, {
        error:
          'expected a server name of lower-case letters, digits and -, starting with a letter or digit, at most 63 characters',
      }),
      mcpServerSchema,
    ).optional(),
  })
  .superRefine((config, ctx) => {
    // A server's connection names one under `connections`; a stdio server reads its token from `env`.
    for (const [name, server] of Object.entries(config.mcpServers ?? {})) {
      if (server.connection === undefined) continue;
      const connection = config.connections?.[server.connection];
      const path = ['mcpServers', name, 'connection'];
      if (connection === undefined || !Object.hasOwn(config.connections ?? {}, server.connection))
        ctx.addIssue({ code: 'custom', path, message: 'expected the id of an entry of connections' });
      else if (server.command !== undefined && connection.env === undefined)
        ctx.addIssue({
          code: 'custom',
          path,
          message: `needs connections.${server.connection}.env (the variable the stdio server reads the token from)`,
        });
    }
  });

/** One entry of `mcpServers`, as loaded (`${env:…}` replaced, relative `cwd` resolved). */
export type McpServerConfig = z.output<typeof mcpServerSchema>;
/** A loaded configuration file; durations are in seconds. */
export type GatehouseConfig = z.output<typeof gatehouseConfigSchema>;
