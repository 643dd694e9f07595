/**
 * `tools/list`, `resources/list`, `resources/templates/list` and `prompts/list` show only what the
 * token may use (unless the server is configured `listAll`, for clients that step up): a client
 * never learns of a tool it would be refused, and a model is not offered it.
 */
import { hasScope } from '@gatehouse/core';
import { type McpScopeManifest, promptScope, resourceScope } from '@gatehouse/resource';
import type { McpServerConfig } from '../config/schema.ts';
import { type ToolInfo, toolScopeFor } from '../scopes.ts';

export interface ListFilter {
  tools<T extends ToolInfo>(tools: readonly T[]): T[];
  resources<T extends { uri: string }>(resources: readonly T[]): T[];
  resourceTemplates<T extends { uriTemplate: string }>(templates: readonly T[]): T[];
  prompts<T extends { name: string }>(prompts: readonly T[]): T[];
}

/** The filter for a token holding `scopes` on `server`. */
export function listFilter(options: {
  server: string;
  config: McpServerConfig;
  manifest: McpScopeManifest;
  scopes: readonly string[];
}): ListFilter {
  const { server, config, manifest, scopes } = options;
  if (config.listAll === true) {
    return {
      tools: (t) => [...t],
      resources: (r) => [...r],
      resourceTemplates: (t) => [...t],
      prompts: (p) => [...p],
    };
  }
  return {
    // The listing's own annotations decide, so the first listing is filtered right too.
    tools: (tools) => tools.filter((t) => hasScope(scopes, toolScopeFor(server, config, t))),
    resources: (resources) => resources.filter((r) => hasScope(scopes, resourceScope(manifest, r.uri))),
    resourceTemplates: (templates) =>
      templates.filter((t) => hasScope(scopes, resourceScope(manifest, t.uriTemplate))),
    prompts: (prompts) => prompts.filter((p) => hasScope(scopes, promptScope(manifest, p.name))),
  };
}
