import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ClientError } from '../errors.ts';

export interface FileLockOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** A lock older than this (ms) is assumed to belong to a crashed process and is broken. */
  staleMs?: number;
  /** Poll interval while waiting (ms). */
  retryMs?: number;
}

/**
 * Runs `fn` while holding `path` as a lock file, created with O_EXCL so exactly one process wins.
 * Waiting polls; that is a wait for another process, not a test sleep.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const { timeoutMs = 30_000, staleMs = 30_000, retryMs = 10 } = options;
  const deadline = Date.now() + timeoutMs;
  // The first use on a machine may come before anything created the store's folder.
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    try {
      const info = await stat(path);
      if (Date.now() - info.mtimeMs > staleMs) {
        await unlink(path).catch(() => {});
        continue;
      }
    } catch {
      continue; // released between our open and stat
    }
    if (Date.now() > deadline)
      throw new ClientError('store_unavailable', `timed out waiting for lock ${path}`);
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => {});
  }
}
