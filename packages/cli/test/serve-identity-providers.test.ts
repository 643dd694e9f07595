// biome-ignore-all lint/suspicious/noTemplateCurlyInString: configuration files write ${env:NAME} as users do
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { start } from './harness.ts';

test('issue #12: gatehouse serve --config passes identityProviders and passwordSignIn to the sign-in pages', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-serve-idp-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'gatehouse.json');
  await writeFile(
    file,
    JSON.stringify({
      identityProviders: {
        keycloak: {
          name: 'Acme SSO',
          issuer: 'http://127.0.0.1:9/realms/acme',
          clientId: 'gatehouse',
          clientSecret: '${env:TEST_KC_SECRET}',
        },
      },
      passwordSignIn: false,
    }),
  );
  const server = start(['serve', '--port', '0', '--config', file, '--data', join(dir, 'data')], {
    TEST_KC_SECRET: 'kc-secret-from-the-environment',
  });
  t.after(() => server.stop());
  const [, issuer] = await server.waitForOutput(
    /Issuer \(authorization server\):\s+(http:\/\/127\.0\.0\.1:\d+)/,
    15_000,
  );
  const page = await (await fetch(`${issuer}/login`)).text();
  assert.match(page, /href="\/signin\/keycloak">Continue with Acme SSO</);
  assert.doesNotMatch(page, /type="password"/);
});
