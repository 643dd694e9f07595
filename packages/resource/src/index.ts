export { expressGuard } from './adapters/express.ts';
export { honoGuard } from './adapters/hono.ts';
export type { AuthenticatedIncomingMessage } from './adapters/node.ts';
export { guardNodeHandler, toNodeListener, toWebRequest, writeWebResponse } from './adapters/node.ts';
export { authorizationServerMetadataUrls, discoverAuthorizationServer } from './as-metadata.ts';
export { extractBearerToken } from './bearer.ts';
export { challengeResponse } from './challenge.ts';
export type { Guard, GuardedHandler, GuardedRequest, GuardOptions } from './guard.ts';
export { createGuard, DEFAULT_ALGORITHMS } from './guard.ts';
export type { McpScopeManifest, ResourceScope } from './mcp/manifest.ts';
export {
  MCP_BASE_SCOPES,
  manifestScopes,
  promptScope,
  resourceScope,
  templateMatches,
  toolScope,
} from './mcp/manifest.ts';
export type { ScopeRequirement } from './mcp/policy.ts';
export { challengeScopes, isSatisfied, requestRequirements, requiredScopes } from './mcp/policy.ts';
export type { McpOperation } from './mcp/request.ts';
export { McpRequestError, readMcpOperations } from './mcp/request.ts';
export {
  buildProtectedResourceMetadata,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
} from './metadata.ts';
export type { RevocationFeedOptions } from './revocation-feed.ts';
export { RevocationFeed } from './revocation-feed.ts';
export { RevocationSet } from './revocation-set.ts';
export type { AuthInfo } from './verified-token.ts';
