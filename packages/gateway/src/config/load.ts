import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { expandEnvRefs } from './env-ref.ts';
import { ConfigError, type ConfigIssue, formatPath } from './errors.ts';
import { type GatehouseConfig, gatehouseConfigSchema } from './schema.ts';
import { describeUnknownKey } from './unknown-keys.ts';

/** What `parseConfig` needs besides the parsed JSON. */
export interface ParseConfigOptions {
  /** How the file is named in messages. */
  file: string;
  /** Where `${env:NAME}` references are looked up. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Relative `data` and `cwd` paths are resolved against this folder (the file's). Default: left as written. */
  baseDir?: string;
}

/**
 * Reads and validates a Gatehouse configuration file: JSON, `${env:NAME}` references replaced,
 * every problem reported with its key path, relative paths resolved against the file's folder.
 *
 * @throws ConfigError with one line per problem.
 * @example loadConfig('gatehouse.json').mcpServers?.filesystem?.command
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatehouseConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a folder, not a file'
          : `cannot be read (${code})`;
    throw new ConfigError(file, [{ path: '', message: why }]);
  }
  return parseConfig(parseJson(file, text), { file, env, baseDir: dirname(resolve(file)) });
}

/** Validates an already-parsed configuration (see `loadConfig`). @throws ConfigError */
export function parseConfig(raw: unknown, options: ParseConfigOptions): GatehouseConfig {
  const issues: ConfigIssue[] = [];
  findProtoKeys(raw, [], issues);
  if (issues.length) throw new ConfigError(options.file, issues);
  const expanded = expandReferences(raw, options.env ?? process.env, issues);
  const result = gatehouseConfigSchema.safeParse(expanded, { error: genericMessage });
  if (!result.success) issues.push(...result.error.issues.flatMap(toConfigIssues));
  if (issues.length) throw new ConfigError(options.file, issues);
  const config = result.data as GatehouseConfig;
  if (options.baseDir) resolvePaths(config, options.baseDir);
  return config;
}

/**
 * JSON.parse's own messages quote the text around the error, which may be a secret; only the
 * line and column are kept.
 */
function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    const where = /\(line (\d+) column (\d+)\)/.exec((err as Error).message);
    const at = where ? ` at line ${where[1]} column ${where[2]}` : '';
    throw new ConfigError(file, [{ path: '', message: `expected JSON; the text is not valid JSON${at}` }]);
  }
}

/**
 * JSON.parse keeps a `__proto__` key as data, but copying it into an ordinary object (as the
 * schema does) would set a prototype instead and the entry would silently vanish: refused outright.
 */
function findProtoKeys(value: unknown, path: PropertyKey[], issues: ConfigIssue[]): void {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) findProtoKeys(item, [...path, i], issues);
  } else if (isObject(value))
    for (const key of Object.keys(value)) {
      if (key === '__proto__')
        issues.push({ path: formatPath([...path, key]), message: 'is not allowed as a key' });
      else findProtoKeys(value[key], [...path, key], issues);
    }
}

/** The string values that may say `${env:NAME}`: those that carry secrets or differ per machine. */
const TOP_LEVEL_REFS = new Set(['issuer', 'store', 'data']);
const SERVER_REFS = new Set(['command', 'cwd', 'url']);
const SERVER_LIST_REFS = new Set(['args', 'env', 'headers']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Identity providers' and connections' client secrets: always an `${env:NAME}` reference, never
 * written into the file itself (which is shared, versioned and shown), and replaced here.
 */
function expandProviderSecrets(
  key: 'identityProviders' | 'connections',
  providers: Record<string, unknown>,
  expand: (value: unknown, path: PropertyKey[]) => unknown,
  issues: ConfigIssue[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, provider] of Object.entries(providers)) {
    let value = provider;
    if (isObject(provider) && typeof provider.clientSecret === 'string') {
      const path = [key, id, 'clientSecret'];
      if (!/^\$\{env:[^}]*\}$/.test(provider.clientSecret))
        issues.push({
          path: formatPath(path),
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal syntax users write
          message: 'expected an ${env:NAME} reference, not the secret itself',
        });
      value = { ...provider, clientSecret: expand(provider.clientSecret, path) };
    }
    Object.defineProperty(out, id, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A copy of `raw` with the references replaced where they are allowed; other values are untouched. */
function expandReferences(raw: unknown, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): unknown {
  if (!isObject(raw)) return raw;
  const out: Record<string, unknown> = { ...raw };
  const expand = (value: unknown, path: PropertyKey[]) =>
    typeof value === 'string' ? expandEnvRefs(value, env, formatPath(path), issues) : value;
  for (const key of TOP_LEVEL_REFS) if (Object.hasOwn(out, key)) out[key] = expand(out[key], [key]);
  if (isObject(out.identityProviders))
    out.identityProviders = expandProviderSecrets('identityProviders', out.identityProviders, expand, issues);
  if (isObject(out.connections))
    out.connections = expandProviderSecrets('connections', out.connections, expand, issues);
  if (!isObject(out.mcpServers)) return out;
  const servers: Record<string, unknown> = {};
  for (const [name, server] of Object.entries(out.mcpServers)) {
    if (!isObject(server)) {
      Object.defineProperty(servers, name, {
        value: server,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      continue;
    }
    const copy: Record<string, unknown> = { ...server };
    const base = ['mcpServers', name];
    for (const key of SERVER_REFS)
      if (Object.hasOwn(copy, key)) copy[key] = expand(copy[key], [...base, key]);
    for (const key of SERVER_LIST_REFS) {
      const list = copy[key];
      if (Array.isArray(list)) copy[key] = list.map((v, i) => expand(v, [...base, key, i]));
      else if (isObject(list)) {
        const entries: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(list))
          Object.defineProperty(entries, k, {
            value: expand(v, [...base, key, k]),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        copy[key] = entries;
      }
    }
    Object.defineProperty(servers, name, {
      value: copy,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  out.mcpServers = servers;
  return out;
}

/** Zod's messages for what the schema does not word itself, in the file's terms. */
function genericMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    if (issue.expected === 'object') return 'expected an object ({ … })';
    if (issue.expected === 'array') return 'expected a list ([ … ])';
    return `expected ${issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`}`;
  }
  return undefined;
}

/** One zod issue as the problems a user reads: unknown keys one by one, each with its path. */
function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => ({
      path: formatPath([...issue.path, key]),
      message: describeUnknownKey(issue.path, key),
    }));
  if (issue.code === 'invalid_key')
    return [{ path: formatPath(issue.path), message: issue.issues[0]?.message ?? 'is not an allowed name' }];
  if (issue.path.length === 0 && issue.code === 'invalid_type')
    return [{ path: '', message: 'expected a JSON object ({ … }) at the top level' }];
  return [{ path: formatPath(issue.path), message: issue.message }];
}

/** Relative paths in the file mean "next to the file", wherever `gatehouse` is started from. */
function resolvePaths(config: GatehouseConfig, baseDir: string): void {
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  if (config.data !== undefined) config.data = absolute(config.data);
  for (const server of Object.values(config.mcpServers ?? {}))
    if (server.cwd !== undefined) server.cwd = absolute(server.cwd);
}
