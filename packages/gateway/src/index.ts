/**
 * @gatehouse/gateway: each entry of a Gatehouse configuration file's `mcpServers` served at
 * `/mcp/<name>` behind the guard. Each part adds its exports here.
 */
export { ConfigError } from './config/errors.ts';
export { loadConfig, parseConfig } from './config/load.ts';
export type { GatehouseConfig, McpServerConfig } from './config/schema.ts';
