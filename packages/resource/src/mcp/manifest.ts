/**
 * The MCP scope manifest: every tool, resource (or resource template) and prompt declares the
 * scope it needs. From it come `scopes_supported`, the 403 challenges and the consent sentences.
 *
 * @example
 * const manifest: McpScopeManifest = {
 *   tools: { read_file: 'tools:execute:filesystem', query: 'tools:execute:database' },
 *   resources: [{ uriTemplate: 'demo://tables/{table}', scope: 'resources:read:database' }],
 *   prompts: { summarize_table: 'prompts:execute' },
 * };
 */
export interface McpScopeManifest {
  /** Tool name → scope needed to call it. Undeclared tools need `toolScopeOf`'s answer, else `defaultToolScope`. */
  tools?: Record<string, string>;
  /**
   * Consulted for tools not in `tools`, for servers that learn their tools at run time (a gateway
   * reads an upstream's `tools/list`); undefined falls through to `defaultToolScope`.
   */
  toolScopeOf?: (name: string) => string | undefined;
  /** The scope of any other tool; default `tools:execute`. A gateway gives each server its own. */
  defaultToolScope?: string;
  /** Resources by exact `uri` or RFC 6570 `uriTemplate`; undeclared ones need `resources:read`. */
  resources?: ReadonlyArray<ResourceScope>;
  /** Prompt name → scope needed to get it. Undeclared prompts need `prompts:execute`. */
  prompts?: Record<string, string>;
}

export interface ResourceScope {
  uri?: string;
  uriTemplate?: string;
  /** Needed to read it: `resources:read` or narrower (`resources:read:database`). */
  scope: string;
}

/** The scopes every MCP method family needs, before the manifest narrows them. */
export const MCP_BASE_SCOPES = {
  toolsList: 'tools:list',
  toolsExecute: 'tools:execute',
  resourcesRead: 'resources:read',
  resourcesSubscribe: 'resources:subscribe',
  promptsList: 'prompts:list',
  promptsExecute: 'prompts:execute',
} as const;

/** Every scope the manifest can ask for, for RFC 9728 `scopes_supported`. */
export function manifestScopes(manifest: McpScopeManifest): string[] {
  const scopes = new Set<string>([MCP_BASE_SCOPES.toolsList]);
  for (const scope of Object.values(manifest.tools ?? {})) scopes.add(scope);
  if (manifest.defaultToolScope) scopes.add(manifest.defaultToolScope);
  scopes.add(MCP_BASE_SCOPES.resourcesRead);
  for (const r of manifest.resources ?? []) scopes.add(r.scope);
  scopes.add(MCP_BASE_SCOPES.resourcesSubscribe);
  scopes.add(MCP_BASE_SCOPES.promptsList);
  scopes.add(MCP_BASE_SCOPES.promptsExecute);
  for (const scope of Object.values(manifest.prompts ?? {})) scopes.add(scope);
  return [...scopes];
}

/** The scope needed to call `name`. */
export function toolScope(manifest: McpScopeManifest, name: string): string {
  return (
    ownValue(manifest.tools, name) ??
    manifest.toolScopeOf?.(name) ??
    manifest.defaultToolScope ??
    MCP_BASE_SCOPES.toolsExecute
  );
}

/** The scope needed to get prompt `name`. */
export function promptScope(manifest: McpScopeManifest, name: string): string {
  return ownValue(manifest.prompts, name) ?? MCP_BASE_SCOPES.promptsExecute;
}

/** The scope needed to read `uri`: an exact entry wins over the first matching template. */
export function resourceScope(manifest: McpScopeManifest, uri: string): string {
  const resources = manifest.resources ?? [];
  const exact = resources.find((r) => r.uri === uri);
  if (exact) return exact.scope;
  const templated = resources.find((r) => r.uriTemplate !== undefined && templateMatches(r.uriTemplate, uri));
  return templated?.scope ?? MCP_BASE_SCOPES.resourcesRead;
}

/** Names come from the network: never let `constructor` or `__proto__` resolve to something. */
function ownValue(record: Record<string, string> | undefined, key: string): string | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

const templateCache = new Map<string, RegExp>();

/**
 * Matches a URI against an RFC 6570 template: `{var}` matches one path segment, `{+var}` and
 * `{var*}` match anything, and query/fragment expressions (`{?a,b}`, `{#x}`) match their part.
 */
export function templateMatches(template: string, uri: string): boolean {
  let re = templateCache.get(template);
  if (!re) {
    let source = '^';
    for (const part of template.split(/(\{[^}]*\})/)) {
      if (!part.startsWith('{')) {
        source += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        continue;
      }
      const op = part[1];
      if (op === '?' || op === '&') source += '(?:[?&][^#]*)?';
      else if (op === '#') source += '(?:#.*)?';
      else if (op === '+' || part.endsWith('*}')) source += '.+';
      else source += '[^/?#]+';
    }
    re = new RegExp(`${source}$`);
    templateCache.set(template, re);
  }
  return re.test(uri);
}
