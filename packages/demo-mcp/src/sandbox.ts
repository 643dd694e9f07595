import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';

/** A path that would leave the sandbox (`..`, an absolute path, or a symlink pointing out). */
export class SandboxEscapeError extends Error {
  constructor() {
    super('Path is outside the sandbox.');
    this.name = 'SandboxEscapeError';
  }
}

/**
 * Resolves a client-supplied relative path inside the sandbox root. Refuses absolute paths and
 * `..` traversal lexically, then resolves symlinks on the nearest existing ancestor so that a
 * link inside the sandbox cannot lead outside it. For a path that does not exist yet (a write),
 * its parent must resolve inside the sandbox.
 */
export async function resolveInSandbox(root: string, relative: string): Promise<string> {
  if (relative.includes('\0') || path.isAbsolute(relative)) throw new SandboxEscapeError();
  const realRoot = await realpath(root);
  const lexical = path.resolve(realRoot, relative);
  if (!isInside(realRoot, lexical)) throw new SandboxEscapeError();
  // Walk up to the nearest existing ancestor and resolve it for real.
  let existing = lexical;
  const rest: string[] = [];
  for (;;) {
    try {
      await lstat(existing);
      break;
    } catch {
      rest.unshift(path.basename(existing));
      existing = path.dirname(existing);
    }
  }
  const resolved = path.join(await realpath(existing), ...rest);
  if (!isInside(realRoot, resolved)) throw new SandboxEscapeError();
  return resolved;
}

export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
