import { join, resolve } from 'node:path';
import { createSecrets, loadMasterSecret, type Secrets, SqliteStore, type Store } from '@gatehouse/server';
import { UsageError } from './output.ts';

export const DEFAULT_DATA_DIR = '.gatehouse';

/**
 * What commands share. Not the master secret itself, only what derives from it: `serve` reads
 * the secret from the folder as it starts the server, so no object carries it around.
 */
export interface DataFolder {
  dir: string;
  store: Store;
  secrets: Secrets;
}

export interface DataFolderOptions {
  /** The data folder (master secret, SQLite database, demo files). Default: GATEHOUSE_DATA or `.gatehouse`. */
  data?: string | undefined;
  /** A `postgres://` URL to keep the state in PostgreSQL instead of SQLite. Default: GATEHOUSE_STORE. */
  store?: string | undefined;
}

/** What `--store` means, for usage errors. */
export const STORE_HELP = '--store must be a postgres:// URL, e.g. postgres://gatehouse@db:5432/gatehouse';

/**
 * Opens what every command shares: the store and the master secret. The store is the SQLite file
 * in the data folder, or PostgreSQL when `--store` / GATEHOUSE_STORE names one, so that admin
 * commands act on the same state as the servers they administer. The master secret comes from
 * GATEHOUSE_SECRET or the folder's key file either way. `pg` is loaded only for PostgreSQL.
 */
export async function openDataFolder(options: DataFolderOptions = {}): Promise<DataFolder> {
  const dir = resolve(options.data ?? (process.env.GATEHOUSE_DATA || DEFAULT_DATA_DIR));
  // An empty GATEHOUSE_STORE means "not set", as shells often export empty variables.
  const url = options.store ?? (process.env.GATEHOUSE_STORE || undefined);
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) throw new UsageError(STORE_HELP);
  const secrets = createSecrets(loadMasterSecret(dir));
  const store = url === undefined ? new SqliteStore(join(dir, 'gatehouse.db')) : await openPostgres(url);
  return { dir, store, secrets };
}

async function openPostgres(url: string): Promise<Store> {
  const { openPostgresStore, redactConnectionString } = await import('@gatehouse/store-postgres');
  try {
    return await openPostgresStore({ connectionString: url });
  } catch (err) {
    throw new UsageError(
      `cannot open the store at ${redactConnectionString(url)}: ${(err as Error).message}`,
    );
  }
}
