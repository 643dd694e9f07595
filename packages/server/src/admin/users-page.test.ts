import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsoleBrowser, startConsole } from './console-test-kit.ts';

let kit: Awaited<ReturnType<typeof startConsole>>;

before(async () => {
  kit = await startConsole();
});
after(() => kit.close());

test("issue #12: the admin users page shows each user's linked identities (provider:subject and email)", async () => {
  await kit.addUser('root', true);
  const ann = await kit.addUser('ann');
  await kit.addUser('bob');
  await kit.store.linkIdentity({
    provider: 'keycloak',
    subject: 'f3a1-77',
    user_id: ann.id,
    email: 'ann@example.com',
    created_at: kit.clock.now,
  });
  const browser = new ConsoleBrowser(kit.as);
  await browser.signIn('root');
  const { response, text } = await browser.request('/admin/users');
  assert.equal(response.status, 200);
  const row = (name: string) => new RegExp(`<td>${name}[^]*?</tr>`).exec(text)?.[0] ?? '';
  assert.match(row('ann'), /<td>keycloak:f3a1-77 \(ann@example\.com\)<\/td>/);
  assert.match(row('bob'), /<td>none<\/td>/);
});
