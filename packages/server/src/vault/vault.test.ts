import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../store/sqlite.ts';
import { vaultContract } from './vault.contract.ts';

vaultContract('SQLite', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'gatehouse-vault-')), 'gatehouse.db');
  const store = new SqliteStore(path);
  return {
    store,
    second: async () => new SqliteStore(path),
    // The database file and its write-ahead log, byte for byte.
    raw: async () =>
      [path, `${path}-wal`]
        .map((file) => {
          try {
            return readFileSync(file).toString('latin1');
          } catch {
            return '';
          }
        })
        .join('\n'),
  };
});
