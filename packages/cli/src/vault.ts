import { Vault } from '@gatehouse/server';
import { nowSeconds } from './admin.ts';
import { findConfigFile, readConfigFile } from './config-file.ts';
import type { DataFolder } from './data.ts';
import { vaultConnections } from './serve/settings.ts';

/**
 * The token vault as the admin verbs use it, with the configuration file's `connections` (which
 * name each upstream's client and revocation endpoint), so that removing a connection, or a user,
 * revokes the upstream tokens first. Without the file, removing only deletes the rows: `has`
 * then answers false for the connection, and the verb says so.
 */
export function adminVault(data: DataFolder, config: string | undefined): Vault {
  const file = findConfigFile(config);
  const parsed = file === undefined ? undefined : readConfigFile(file);
  return new Vault({
    store: data.store,
    secrets: data.secrets,
    issuer: parsed?.issuer ?? 'http://localhost',
    now: nowSeconds,
    connections: vaultConnections(parsed) ?? new Map(),
  });
}
