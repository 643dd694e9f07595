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

test('SQLite store: a busy store checkpoints from its own thread; the WAL starts over, and close() ends the thread with everything kept', async () => {
  const { statSync } = await import('node:fs');
  const path = join(dir, 'busy.db');
  const store = new SqliteStore(path);
  const detail = { pad: 'x'.repeat(500) };
  // Enough write transactions to start the checkpoint thread, with pauses as a server has them.
  for (let i = 0; i < 2000; i++) {
    await store.appendAuditEvents([{ at: i, type: 'busy', detail }]);
    if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const grown = statSync(`${path}-wal`).size;
  await new Promise((resolve) => setTimeout(resolve, 300));
  // The thread has copied the WAL into the database file: the next write starts the WAL over and
  // the file is cut back (16 MiB at most).
  await store.appendAuditEvents([{ at: 2000, type: 'busy' }]);
  assert.ok(statSync(`${path}-wal`).size <= 16 * 1024 * 1024, `WAL ${statSync(`${path}-wal`).size} bytes`);
  assert.ok(statSync(path).size > 1_000_000, `database file ${statSync(path).size} bytes (WAL was ${grown})`);
  await store.close();
  const reopened = new SqliteStore(path);
  assert.equal((await reopened.listAudit({ limit: 5000 })).length, 2001);
  await reopened.close();
});
