// The one Node adapter lives in core (the guard uses it too); re-exported for servers' convenience.
export {
  clientAddress,
  type HttpHandler,
  type NodeListenerOptions,
  refuseMalformedRequest,
  toNodeListener,
} from '@gatehouse/core';
export { type AuthorizationServerConfig, resolveConfig } from './config.ts';
export { createSecrets, loadMasterSecret, type Secrets } from './secrets.ts';
export { type AuthorizationServer, createAuthorizationServer } from './server.ts';
export { SqliteStore } from './store/sqlite.ts';
export type * from './store/types.ts';
export { CLIENT_SECRET_PREFIX, createOpaqueToken } from './tokens/opaque.ts';
export {
  KEY_PROPAGATION_DELAY,
  type KeyStatus,
  keyStatus,
  MAX_ACCESS_TOKEN_TTL,
  type RotationResult,
  rotateSigningKeys,
} from './tokens/rotate-keys.ts';
export { deactivateUser } from './users/deactivate.ts';
export { hashPassword } from './users/password.ts';
export type { UpstreamConnectionConfig } from './vault/upstream-client.ts';
export { Vault, type VaultAnswer } from './vault/vault.ts';
