/**
 * Child processes of the benchmark: starting them, talking to them, reading their CPU time.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { MintReply, ReadyMessage } from './protocol.ts';

/** Every child runs with the same Node binary and environment. */
export const childEnv = { ...process.env, NODE_ENV: 'production' };

/** Clock ticks per second of /proc/<pid>/stat. */
const ticks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system, every thread) a process has used so far; undefined off Linux. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may contain spaces, sit after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds used so far by each process of this name (e.g. `postgres`: the server and its
 * backends), by pid, from /proc; undefined off Linux. Diff two with {@link cpuSecondsBetween}.
 */
export function processCpuSeconds(name: string): Map<string, number> | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  const byPid = new Map<string, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== name) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(pid, (Number(fields[11]) + Number(fields[12])) / ticks);
    } catch {}
  }
  return byPid;
}

/**
 * CPU seconds used between two {@link processCpuSeconds} readings by the processes alive at the
 * second (those started in between count whole; those that exited in between are not seen).
 */
export function cpuSecondsBetween(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** Waits for the first message of a given type from a forked child, failing if it exits first. */
export function nextMessage<T extends { type: string }>(
  child: ChildProcess,
  accept: (message: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no answer from child ${child.pid} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: T) => {
      if (accept(message)) done(undefined, message);
    };
    const onExit = (code: number | null) => done(new Error(`child ${child.pid} exited (${code})`));
    function done(err: Error | undefined, message?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(message as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Forks a TypeScript entry point with an IPC channel; its output goes to ours, prefixed. */
export function forkChild(entry: string, name: string): ChildProcess {
  const child = fork(entry, [], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  relayOutput(child, name);
  return child;
}

/** Shows a child's stderr (warnings, crashes) and drops its stdout, so the table stays readable. */
export function relayOutput(child: ChildProcess, name: string, keepStdout = false): void {
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n'))
      if (line.trim()) process.stderr.write(`  [${name}] ${line}\n`);
  });
  if (!keepStdout) child.stdout?.resume();
}

let mintIds = 0;

/** A contender server running as a forked child that answers `mint` requests. */
export async function startForkedContender(entry: string, name: string) {
  const child = forkChild(entry, name);
  const ready = await nextMessage<ReadyMessage>(child, (m) => m.type === 'ready');
  return {
    child,
    ready,
    async mint(count: number): Promise<string[]> {
      const id = ++mintIds;
      const reply = nextMessage<MintReply>(child, (m) => m.type === 'minted' && m.id === id);
      child.send({ type: 'mint', id, count });
      const { tokens, error } = await reply;
      if (error) throw new Error(`${name} could not mint refresh tokens: ${error}`);
      return tokens;
    },
  };
}

/** Stops a child with SIGTERM, then SIGKILL if it lingers. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
