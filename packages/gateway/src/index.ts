/**
 * @gatehouse/gateway: each entry of a Gatehouse configuration file's `mcpServers` served at
 * `/mcp/<name>` behind the guard. Each part adds its exports here.
 */
export { type ArgumentsMac, canonicalJson, type GatewayAuditEvent } from './audit.ts';
export { accessTokenTtlProblem, DURATION_HELP, parseDuration } from './config/duration.ts';
export { ConfigError, type ConfigIssue } from './config/errors.ts';
export { loadConfig, parseConfig } from './config/load.ts';
export {
  type GatehouseConfig,
  type McpServerConfig,
  SERVER_NAME,
  serverDefaults,
  USER_PLACEHOLDER,
} from './config/schema.ts';
export { createGateway, type Gateway, type GatewayOptions, type GatewayServer } from './gateway.ts';
export { IDENTITY_HEADER, identityClaims } from './identity.ts';
export { readOnlyToolScope, serverToolScope } from './scopes.ts';
export {
  type Credentials,
  type UpstreamCredential,
  UpstreamError,
  type UpstreamErrorReason,
  UpstreamPool,
  type UpstreamStatus,
} from './upstream/pool.ts';
