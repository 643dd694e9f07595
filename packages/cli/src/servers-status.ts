import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UpstreamStatus } from '@gatehouse/gateway';

/** One upstream's state, as the gateway's pool reports it. */
export type ServerStatus = UpstreamStatus;

/** `<data>/servers.json`: what a running `gatehouse serve` last reported of its upstreams. */
export interface ServersStatusFile {
  /** The serving process, so a reader can tell a live report from one left by a killed process. */
  pid: number;
  issuer: string;
  /** When this report was written (ms since the epoch). */
  time: number;
  servers: (ServerStatus & { url: string })[];
}

export const STATUS_FILE = 'servers.json';

/** How often the status is looked at; it is written when it changed, and at least every HEARTBEAT_MS. */
const POLL_MS = 1000;
export const HEARTBEAT_MS = 5000;

/**
 * Keeps `<data>/servers.json` current while `gatehouse serve` runs, so `gatehouse servers` (another
 * process) can show the state of each upstream: written at once, whenever the status changes, and
 * every few seconds so its `time` shows the server is alive; removed on `stop()`. Writes go to a
 * temporary file first, so a reader never sees half a report.
 */
export function keepStatusFile(
  dataDir: string,
  report: () => Omit<ServersStatusFile, 'pid' | 'time'>,
): { stop(): Promise<void> } {
  const file = join(dataDir, STATUS_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  let last = '';
  let lastWrite = 0;
  let writing: Promise<void> = Promise.resolve();
  const tick = () => {
    const now = Date.now();
    const current = report();
    const content = JSON.stringify(current);
    if (content === last && now - lastWrite < HEARTBEAT_MS) return;
    last = content;
    lastWrite = now;
    const body: ServersStatusFile = { pid: process.pid, time: now, ...current };
    writing = writing
      .then(async () => {
        // With GATEHOUSE_SECRET and PostgreSQL, nothing else may have created the data folder.
        await mkdir(dataDir, { recursive: true, mode: 0o700 });
        await writeFile(temporary, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
        await rename(temporary, file);
      })
      // A full disk must not stop the server; the next tick tries again.
      .catch(() => {
        last = '';
      });
  };
  tick();
  const timer = setInterval(tick, POLL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await writing;
      await rm(file, { force: true });
    },
  };
}

/** The last report in `dataDir`, or undefined when there is none (nothing is serving from it). */
export function readStatusFile(dataDir: string): ServersStatusFile | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, STATUS_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as ServersStatusFile;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote a report is still there (it may have been killed outright). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
