/**
 * The SQLite store's checkpoint thread (started by `SqliteStore` once a store is busy): it
 * checkpoints the WAL into the database file with a connection of its own. A checkpoint syncs the
 * WAL, copies its pages into the database file and syncs that; on the server's thread (SQLite's
 * automatic checkpoint, run inside a COMMIT once the WAL holds 1000 pages) it stalled every
 * request meanwhile. PASSIVE never blocks the writer; while the writer keeps adding pages, passes
 * follow each other (each copies what came during the last) until one has copied everything, so
 * the writer can start the WAL over. `synchronous = NORMAL` as on the main connection: WAL and
 * database file are synced at each checkpoint, as before. Any message stops it.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new DatabaseSync(path);
db.exec('PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
let stopped = false;

function pass(): void {
  for (let i = 0; i < 8 && !stopped; i++) {
    let caughtUp: boolean;
    try {
      const r = checkpoint.get() as { busy: number; log: number; checkpointed: number };
      caughtUp = r.busy === 0 && r.checkpointed >= r.log;
    } catch {
      break;
    }
    if (caughtUp) break;
  }
  if (!stopped) timer = setTimeout(pass, intervalMs);
}

let timer = setTimeout(pass, intervalMs);
parentPort?.on('message', () => {
  stopped = true;
  clearTimeout(timer);
  db.close();
  parentPort?.close();
});
