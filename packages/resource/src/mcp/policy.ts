import { hasScope, scopeCovers } from '@gatehouse/core';
import { MCP_BASE_SCOPES, type McpScopeManifest, promptScope, resourceScope, toolScope } from './manifest.ts';
import type { McpOperation } from './request.ts';

/**
 * One scope an operation needs. With `orNarrower`, a held scope under it also satisfies it
 * (`resources:read:database` may list resources; the listing is the server's to filter).
 */
export interface ScopeRequirement {
  scope: string;
  orNarrower?: boolean;
}

/**
 * The scopes one MCP operation needs:
 * `tools/list` → `tools:list`; `tools/call` → the tool's scope; `resources/list`,
 * `resources/templates/list` → `resources:read` (or narrower); `resources/read` → the resource's
 * scope; `resources/subscribe` and `subscriptions/listen` for resources → `resources:subscribe`
 * (plus the resource's read scope); `prompts/list` → `prompts:list`; `prompts/get` → the
 * prompt's scope. Protocol plumbing (`initialize`, `ping`, notifications, responses, logging,
 * `server/discover`) needs none.
 */
export function requiredScopes(operation: McpOperation, manifest: McpScopeManifest): ScopeRequirement[] {
  const p = operation.params ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  switch (operation.method) {
    case 'tools/list':
      return [{ scope: MCP_BASE_SCOPES.toolsList }];
    case 'tools/call':
      return [{ scope: toolScope(manifest, str(p.name)) }];
    case 'resources/list':
    case 'resources/templates/list':
      return [{ scope: MCP_BASE_SCOPES.resourcesRead, orNarrower: true }];
    case 'resources/read':
      return [{ scope: resourceScope(manifest, str(p.uri)) }];
    case 'resources/subscribe':
      return [{ scope: MCP_BASE_SCOPES.resourcesSubscribe }, { scope: resourceScope(manifest, str(p.uri)) }];
    case 'resources/unsubscribe':
      return [{ scope: MCP_BASE_SCOPES.resourcesSubscribe }];
    case 'prompts/list':
      return [{ scope: MCP_BASE_SCOPES.promptsList }];
    case 'prompts/get':
      return [{ scope: promptScope(manifest, str(p.name)) }];
    case 'completion/complete':
      return completionScopes(p.ref, manifest);
    case 'subscriptions/listen':
      return listenScopes(p.notifications, manifest);
    default:
      return [];
  }
}

/** Completing an argument reveals values of the prompt or resource it belongs to. */
function completionScopes(ref: unknown, manifest: McpScopeManifest): ScopeRequirement[] {
  if (typeof ref !== 'object' || ref === null) return [];
  const { type, name, uri } = ref as { type?: unknown; name?: unknown; uri?: unknown };
  if (type === 'ref/prompt' && typeof name === 'string') return [{ scope: promptScope(manifest, name) }];
  if (type === 'ref/resource') return [{ scope: MCP_BASE_SCOPES.resourcesRead, orNarrower: true }];
  return typeof uri === 'string' ? [{ scope: resourceScope(manifest, uri) }] : [];
}

/** 2026-07-28 `subscriptions/listen` replaces `resources/subscribe` and the GET stream. */
function listenScopes(filter: unknown, manifest: McpScopeManifest): ScopeRequirement[] {
  if (typeof filter !== 'object' || filter === null) return [];
  const f = filter as Record<string, unknown>;
  const out: ScopeRequirement[] = [];
  if (f.toolsListChanged === true) out.push({ scope: MCP_BASE_SCOPES.toolsList });
  if (f.promptsListChanged === true) out.push({ scope: MCP_BASE_SCOPES.promptsList });
  if (f.resourcesListChanged === true) out.push({ scope: MCP_BASE_SCOPES.resourcesRead, orNarrower: true });
  if (Array.isArray(f.resourceSubscriptions) && f.resourceSubscriptions.length > 0) {
    out.push({ scope: MCP_BASE_SCOPES.resourcesSubscribe });
    for (const uri of f.resourceSubscriptions) {
      if (typeof uri === 'string') out.push({ scope: resourceScope(manifest, uri) });
    }
  }
  return out;
}

/** The union of requirements of every operation in a request (a batch needs them all). */
export function requestRequirements(operations: readonly McpOperation[], manifest: McpScopeManifest) {
  const out: ScopeRequirement[] = [];
  for (const op of operations) {
    for (const req of requiredScopes(op, manifest)) {
      const same = out.find((r) => r.scope === req.scope);
      if (!same) out.push({ ...req });
      else if (!req.orNarrower) same.orNarrower = false;
    }
  }
  return out;
}

/** True when `held` satisfies the requirement, honouring the hierarchy. */
export function isSatisfied(held: readonly string[], requirement: ScopeRequirement): boolean {
  if (hasScope(held, requirement.scope)) return true;
  return requirement.orNarrower === true && held.some((h) => scopeCovers(requirement.scope, h));
}

/**
 * The scopes to name in a 403 `insufficient_scope` challenge: every scope the request needs (not
 * only the missing ones), with those already covered by another named scope dropped, so that a
 * client asking for exactly these can perform the whole request.
 */
export function challengeScopes(requirements: readonly ScopeRequirement[]): string[] {
  const scopes = requirements.map((r) => r.scope);
  return [...new Set(scopes)].filter((s) => !scopes.some((o) => o !== s && scopeCovers(o, s)));
}
