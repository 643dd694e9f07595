import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSecrets, loadMasterSecret } from './secrets.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the master secret key file is created once with mode 0600, even by processes starting together', async () => {
  const data = join(dir, 'race');
  const script = `import { loadMasterSecret } from ${JSON.stringify(new URL('./secrets.ts', import.meta.url).href)};
process.send(loadMasterSecret(${JSON.stringify(data)}, {}));`;
  const secrets = await Promise.all(
    Array.from(
      { length: 6 },
      () =>
        new Promise<string>((resolve, reject) => {
          const child = fork('--input-type=module', [], { execArgv: ['--input-type=module', '-e', script] });
          child.once('message', (m) => resolve(String(m)));
          child.once('error', reject);
          child.once('exit', (code) => code && reject(new Error(`exit ${code}`)));
        }),
    ),
  );
  assert.equal(new Set(secrets).size, 1, 'every process reads the same secret');
  assert.deepEqual(readdirSync(data), ['secret.key'], 'no temporary file is left behind');
  assert.equal(statSync(join(data, 'secret.key')).mode & 0o777, 0o600);
});

test('GATEHOUSE_SECRET must be long enough, and says how to make one', () => {
  assert.throws(() => loadMasterSecret(dir, { GATEHOUSE_SECRET: 'short' }), /openssl rand/);
  assert.equal(loadMasterSecret(dir, { GATEHOUSE_SECRET: 'x'.repeat(40) }), 'x'.repeat(40));
});

test('at-rest encryption is bound to its context, and the store hash is keyed', () => {
  const a = createSecrets('a'.repeat(43));
  const b = createSecrets('b'.repeat(43));
  const sealed = a.encrypt('private key', 'signing-key:k1');
  assert.equal(a.decrypt(sealed, 'signing-key:k1'), 'private key');
  assert.throws(() => a.decrypt(sealed, 'signing-key:k2'), 'another context cannot open it');
  assert.throws(() => b.decrypt(sealed, 'signing-key:k1'), 'another master secret cannot open it');
  assert.notEqual(a.hash('token'), b.hash('token'));
  assert.equal(a.hash('token'), a.hash('token'));
});
