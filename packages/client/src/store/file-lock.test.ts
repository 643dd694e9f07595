import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { withFileLock } from './file-lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the first use on a fresh machine creates the store folder for its lock', async () => {
  const lock = join(dir, 'not', 'yet', 'there', 'store.json.lock');
  assert.equal(await withFileLock(lock, async () => existsSync(lock)), true);
  assert.equal(existsSync(lock), false, 'released afterwards');
});

test('holders run one at a time', async () => {
  const lock = join(dir, 'serial.lock');
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 5 }, () =>
      withFileLock(lock, async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((resolve) => setImmediate(resolve));
        inside--;
      }),
    ),
  );
  assert.equal(most, 1);
});
