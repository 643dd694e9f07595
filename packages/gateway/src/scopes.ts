/**
 * The scopes of a gateway server: `tools:execute:<name>` for its tools (under `tools:execute`, so
 * servers named `filesystem` and `database` yield the seed catalogue's own scopes), a narrower
 * `tools:execute:<name>:read` for tools the upstream annotates `readOnlyHint` when the operator
 * asks for it, and per-tool overrides from the configuration. The MCP base scopes (`tools:list`,
 * `resources:read`, …) are as for any MCP server.
 */
import type { ScopeDefinition } from '@gatehouse/core';
import { MCP_BASE_SCOPES, type McpScopeManifest } from '@gatehouse/resource';
import type { McpServerConfig } from './config/schema.ts';

/** What the gateway needs to know of an upstream tool to give it a scope (MCP `Tool`). */
export interface ToolInfo {
  name: string;
  annotations?: { readOnlyHint?: boolean | undefined } | undefined;
}

/** `tools:execute:<server>`: every tool of the server that nothing narrower claims. */
export const serverToolScope = (server: string): string => `${MCP_BASE_SCOPES.toolsExecute}:${server}`;

/** `tools:execute:<server>:read`: tools that only read, with `readOnlyScope`. */
export const readOnlyToolScope = (server: string): string => `${serverToolScope(server)}:read`;

/** The human title of a server: the configured one, else its name. */
export const titleOf = (server: string, config: McpServerConfig): string => config.title ?? server;

/**
 * The scope needed to call `tool` of `server`: a configured override, else the read-only scope
 * for an upstream-declared read-only tool (with `readOnlyScope`), else the server's scope.
 * The one rule for the guard's check, list filtering and consent.
 */
export function toolScopeFor(server: string, config: McpServerConfig, tool: ToolInfo): string {
  const override =
    config.tools && Object.hasOwn(config.tools, tool.name) ? config.tools[tool.name] : undefined;
  if (override) return override.scope;
  if (config.readOnlyScope === true && tool.annotations?.readOnlyHint === true)
    return readOnlyToolScope(server);
  return serverToolScope(server);
}

/**
 * The guard's manifest for one server. `lookup` answers what the gateway has learned of a tool
 * from the upstream's `tools/list` (its annotations); a tool not learned yet needs the server's
 * scope, the broader one, so an unknown tool is never let through on the read-only scope.
 */
export function serverManifest(
  server: string,
  config: McpServerConfig,
  lookup: (tool: string) => ToolInfo | undefined,
): McpScopeManifest {
  const overrides: Record<string, string> = Object.create(null);
  for (const [tool, { scope }] of Object.entries(config.tools ?? {})) overrides[tool] = scope;
  return {
    tools: overrides,
    defaultToolScope: serverToolScope(server),
    ...(config.readOnlyScope === true
      ? {
          toolScopeOf: (name: string) => {
            const tool = lookup(name);
            return tool ? toolScopeFor(server, config, tool) : undefined;
          },
        }
      : {}),
  };
}

/** RFC 9728 `scopes_supported` of a server: its tool scopes and the base MCP scopes. */
export function serverScopesSupported(server: string, config: McpServerConfig): string[] {
  return [
    ...new Set([
      MCP_BASE_SCOPES.toolsList,
      ...serverScopeDefinitions(server, config).map((d) => d.name),
      MCP_BASE_SCOPES.resourcesRead,
      MCP_BASE_SCOPES.resourcesSubscribe,
      MCP_BASE_SCOPES.promptsList,
      MCP_BASE_SCOPES.promptsExecute,
    ]),
  ];
}

/**
 * The scope catalogue entries a server adds to the AS, in plain words built from its title (never
 * from the scope string alone): "Run Filesystem tools", "Run Filesystem tools that only read",
 * "Run the Filesystem tool write_file".
 */
export function serverScopeDefinitions(server: string, config: McpServerConfig): ScopeDefinition[] {
  const title = titleOf(server, config);
  const out: ScopeDefinition[] = [{ name: serverToolScope(server), description: `Run ${title} tools` }];
  if (config.readOnlyScope === true)
    out.push({ name: readOnlyToolScope(server), description: `Run ${title} tools that only read` });
  const byScope = new Map<string, string[]>();
  for (const [tool, { scope }] of Object.entries(config.tools ?? {})) {
    if (out.some((d) => d.name === scope)) continue;
    byScope.set(scope, [...(byScope.get(scope) ?? []), tool]);
  }
  for (const [scope, tools] of byScope) {
    const description =
      tools.length === 1
        ? `Run the ${title} tool ${tools[0]}`
        : `Run the ${title} tools ${tools.slice(0, -1).join(', ')} and ${tools.at(-1)}`;
    out.push({ name: scope, description });
  }
  return out;
}

/** The `scope` of the server's 401 challenges: every scope (default), or the configured baseline. */
export function serverChallengeScopes(config: McpServerConfig): string[] | undefined {
  return Array.isArray(config.challengeScopes) ? [...config.challengeScopes] : undefined;
}
