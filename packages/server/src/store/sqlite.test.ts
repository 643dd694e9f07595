import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { storeContract } from './contract.ts';
import { SqliteStore } from './sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

storeContract('SQLite', async () => new SqliteStore(join(dir, `contract-${Date.now()}.db`)));

test('SQLite store: migrations run once and a reopened file keeps its data', async () => {
  const path = join(dir, 'reopen.db');
  const first = new SqliteStore(path);
  await first.appendAudit({ at: 1, type: 'boot' });
  await first.close();
  const second = new SqliteStore(path);
  assert.equal((await second.listAudit({})).length, 1);
  await second.close();
});

test('SQLite store: processes opening a fresh file together migrate it once', async () => {
  const { fork } = await import('node:child_process');
  const path = join(dir, 'together.db');
  const script = `import { SqliteStore } from ${JSON.stringify(new URL('./sqlite.ts', import.meta.url).href)};
const store = new SqliteStore(${JSON.stringify(path)});
await store.appendAudit({ at: 1, type: 'opened' });
await store.close();`;
  const codes = await Promise.all(
    Array.from(
      { length: 6 },
      () =>
        new Promise<number | null>((resolve) =>
          fork('--input-type=module', [], { execArgv: ['--input-type=module', '-e', script] }).once(
            'exit',
            resolve,
          ),
        ),
    ),
  );
  assert.deepEqual(codes, [0, 0, 0, 0, 0, 0]);
  const store = new SqliteStore(path);
  assert.equal((await store.listAudit({})).length, 6);
  await store.close();
});
