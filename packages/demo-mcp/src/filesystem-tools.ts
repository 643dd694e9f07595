import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { resolveInSandbox, SandboxEscapeError } from './sandbox.ts';

const MAX_READ_BYTES = 256 * 1024;

/** Registers list_files, read_file, write_file and search_files, confined to `root`. */
export function registerFilesystemTools(server: McpServer, root: string, allowed: (tool: string) => boolean) {
  if (allowed('list_files')) {
    server.registerTool(
      'list_files',
      {
        description: 'List the files and folders in a folder of the sandbox.',
        inputSchema: z.object({ path: z.string().default('.').describe('Folder, relative to the sandbox') }),
        annotations: { readOnlyHint: true },
      },
      async ({ path: rel }) =>
        guarded(async () => {
          const dir = await resolveInSandbox(root, rel);
          const entries = await readdir(dir, { withFileTypes: true });
          const lines = entries.map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
          return lines.join('\n') || '(empty)';
        }),
    );
  }
  if (allowed('read_file')) {
    server.registerTool(
      'read_file',
      {
        description: 'Read a text file of the sandbox.',
        inputSchema: z.object({ path: z.string().describe('File, relative to the sandbox') }),
        annotations: { readOnlyHint: true },
      },
      async ({ path: rel }) =>
        guarded(async () => {
          const file = await resolveInSandbox(root, rel);
          if ((await stat(file)).size > MAX_READ_BYTES) throw new UserError('The file is too large to read.');
          return readFile(file, 'utf8');
        }),
    );
  }
  if (allowed('write_file')) {
    server.registerTool(
      'write_file',
      {
        description: 'Create or replace a text file in the sandbox.',
        inputSchema: z.object({ path: z.string(), content: z.string().max(MAX_READ_BYTES) }),
        annotations: { destructiveHint: true },
      },
      async ({ path: rel, content }) =>
        guarded(async () => {
          const file = await resolveInSandbox(root, rel);
          await writeFile(file, content, 'utf8');
          return `Wrote ${Buffer.byteLength(content)} bytes to ${rel}.`;
        }),
    );
  }
  if (allowed('search_files')) {
    server.registerTool(
      'search_files',
      {
        description: 'Find the lines of sandbox files that contain a text.',
        inputSchema: z.object({ text: z.string().min(1), path: z.string().default('.') }),
        annotations: { readOnlyHint: true },
      },
      async ({ text, path: rel }) =>
        guarded(async () => {
          const start = await resolveInSandbox(root, rel);
          const hits: string[] = [];
          await search(root, start, text, hits);
          return hits.join('\n') || 'No matches.';
        }),
    );
  }
}

/** Walks the tree without following symlinks (lstat via withFileTypes), up to 100 hits. */
async function search(root: string, dir: string, text: string, hits: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (hits.length >= 100) return;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await search(root, full, text, hits);
    else if (entry.isFile() && (await stat(full)).size <= MAX_READ_BYTES) {
      const lines = (await readFile(full, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (line.includes(text) && hits.length < 100)
          hits.push(`${path.relative(root, full)}:${i + 1}: ${line}`);
      });
    }
  }
}

/** A failure worth telling the user about (the message is safe to show). */
export class UserError extends Error {}

/** Turns expected failures into tool errors (isError) without leaking paths or stack traces. */
export async function guarded(run: () => Promise<string>) {
  try {
    return { content: [{ type: 'text' as const, text: await run() }] };
  } catch (err) {
    const message =
      err instanceof SandboxEscapeError || err instanceof UserError
        ? err.message
        : (err as NodeJS.ErrnoException)?.code === 'ENOENT'
          ? 'No such file or folder.'
          : (err as NodeJS.ErrnoException)?.code === 'EISDIR'
            ? 'That is a folder.'
            : 'The operation failed.';
    return { content: [{ type: 'text' as const, text: message }], isError: true };
  }
}
