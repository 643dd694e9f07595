import { join, resolve } from 'node:path';
import { createSecrets, loadMasterSecret, type Secrets, SqliteStore, type Store } from '@gatehouse/server';

export const DEFAULT_DATA_DIR = '.gatehouse';

export interface DataFolder {
  dir: string;
  store: Store;
  masterSecret: string;
  secrets: Secrets;
}

/** Opens the data folder every command shares: the SQLite store and the master secret. */
export function openDataFolder(dir = DEFAULT_DATA_DIR): DataFolder {
  const abs = resolve(dir);
  const masterSecret = loadMasterSecret(abs);
  return {
    dir: abs,
    store: new SqliteStore(join(abs, 'gatehouse.db')),
    masterSecret,
    secrets: createSecrets(masterSecret),
  };
}
