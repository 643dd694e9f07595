import { mkdirSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import type { McpServerConfig } from '../config/schema.ts';
import { forEachLine } from './stderr-lines.ts';
import { withUser } from './user.ts';

/** How one stdio upstream process is started. */
export interface StdioLaunch {
  command: string;
  args: string[];
  /** The configured variables only; the SDK adds PATH, HOME, USER, LOGNAME, SHELL and TERM. */
  env: Record<string, string>;
  cwd?: string;
}

/**
 * The launch of `config` for `user` (per-user mode) or for everyone (`user` undefined): `${user}`
 * in args, env values and cwd becomes the path-safe form of the user id. The environment is the
 * configured one plus the SDK's short list of basics, never the gateway's own (which holds
 * GATEHOUSE_SECRET and whatever else the operator exported).
 */
export function stdioLaunch(config: McpServerConfig, user: string | undefined): StdioLaunch {
  const command = config.command;
  if (command === undefined) throw new TypeError('A stdio upstream needs a command.');
  const sub = (text: string) => (user === undefined ? text : withUser(text, user));
  const env = new Map<string, string>();
  for (const [key, value] of Object.entries(config.env ?? {})) env.set(key, sub(value));
  return {
    command,
    args: (config.args ?? []).map(sub),
    env: Object.fromEntries(env),
    ...(config.cwd === undefined ? {} : { cwd: sub(config.cwd) }),
  };
}

/**
 * The SDK's stdio client transport for `launch`, its stderr passed to `line` line by line. A
 * per-user working folder (`cwd` naming `${user}`) is created on first use, readable by the
 * gateway's user only.
 */
export function stdioTransport(
  launch: StdioLaunch,
  perUserFolder: boolean,
  line: (text: string) => void,
): StdioClientTransport {
  if (perUserFolder && launch.cwd !== undefined) mkdirSync(launch.cwd, { recursive: true, mode: 0o700 });
  const transport = new StdioClientTransport({
    command: launch.command,
    args: launch.args,
    env: launch.env,
    ...(launch.cwd === undefined ? {} : { cwd: launch.cwd }),
    stderr: 'pipe',
  });
  const stderr = transport.stderr;
  // 'pipe' makes the SDK hand out a PassThrough at once, so no early line is lost.
  if (stderr) forEachLine(stderr as Readable, line);
  return transport;
}
