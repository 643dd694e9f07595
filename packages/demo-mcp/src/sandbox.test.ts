import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveInSandbox, SandboxEscapeError } from './sandbox.ts';

let base: string;
let root: string;
before(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'gatehouse-sandbox-'));
  root = path.join(base, 'sandbox');
  await mkdir(path.join(root, 'docs'), { recursive: true });
  await writeFile(path.join(base, 'secret.txt'), 'secret');
  await writeFile(path.join(root, 'docs', 'a.txt'), 'a');
  await symlink(base, path.join(root, 'escape'));
  await symlink(path.join(base, 'secret.txt'), path.join(root, 'secret-link'));
});
after(() => rm(base, { recursive: true, force: true }));

test('sandbox: paths inside the sandbox resolve, including ones that do not exist yet', async () => {
  assert.ok((await resolveInSandbox(root, 'docs/a.txt')).endsWith(path.join('docs', 'a.txt')));
  assert.ok((await resolveInSandbox(root, 'docs/new/b.txt')).endsWith(path.join('docs', 'new', 'b.txt')));
});

test('sandbox: path traversal and absolute paths are refused', async () => {
  for (const p of ['../secret.txt', 'docs/../../secret.txt', '/etc/passwd', 'a\0b']) {
    await assert.rejects(resolveInSandbox(root, p), SandboxEscapeError, p);
  }
});

test('sandbox: a symlink leading outside is refused, for reads and for writes beneath it', async () => {
  await assert.rejects(resolveInSandbox(root, 'secret-link'), SandboxEscapeError);
  await assert.rejects(resolveInSandbox(root, 'escape/secret.txt'), SandboxEscapeError);
  await assert.rejects(resolveInSandbox(root, 'escape/new-file.txt'), SandboxEscapeError);
});
