import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsoleBrowser, startConsole } from './console-test-kit.ts';

let kit: Awaited<ReturnType<typeof startConsole>>;
let root: { id: string };

before(async () => {
  kit = await startConsole();
  root = await kit.addUser('root', true);
  await kit.addUser('ann');
});
after(() => kit.close());

test('RFC 7517 §5: an admin sees the signing keys and rotates after a confirmation; the new key is published at once, audited with the admin', async () => {
  const browser = new ConsoleBrowser(kit.as);
  await browser.signIn('root');
  const [first] = await kit.store.listSigningKeys();
  const list = await browser.request('/admin/keys');
  assert.equal(list.response.status, 200);
  assert.match(list.text, new RegExp(`data-kid="${first?.kid}"`));
  assert.match(list.text, /Signing/);
  assert.doesNotMatch(list.text, /private|"d":/i, 'no private key material');
  const confirm = await browser.request('/admin/keys/rotate');
  assert.match(confirm.text, /name="confirm" value="yes"/);
  const unconfirmed = await browser.submit('/admin/keys/rotate', '/admin/keys/rotate', {});
  assert.equal(unconfirmed.response.status, 200);
  assert.equal((await kit.store.listSigningKeys()).length, 1, 'nothing rotates before confirming');
  const done = await browser.submit('/admin/keys/rotate', '/admin/keys/rotate', { confirm: 'yes' });
  assert.equal(done.response.status, 303);
  const keys = await kit.store.listSigningKeys();
  assert.equal(keys.length, 2);
  const created = keys.find((k) => k.kid !== first?.kid);
  assert.equal(created?.active_from, kit.clock.now + 300, 'signs after the propagation delay');
  const jwks = (await (
    await kit.as.fetch(new Request('http://127.0.0.1:9/.well-known/jwks.json'))
  ).json()) as {
    keys: { kid: string }[];
  };
  assert.ok(
    jwks.keys.some((k) => k.kid === created?.kid),
    'published by this instance at once',
  );
  const after = await browser.request('/admin/keys?rotated');
  assert.match(after.text, /Published, signs soon/);
  assert.match(after.text, /Key rotated/);
  await kit.as.context.flushAudit();
  const [event] = await kit.store.queryAudit({ type: 'admin.keys_rotated', actor: root.id });
  assert.equal(event?.detail?.kid, created?.kid);
});

test('admin keys: a non-admin gets 403 on the page and on rotate; nothing rotates', async () => {
  const before = (await kit.store.listSigningKeys()).length;
  const user = new ConsoleBrowser(kit.as);
  await user.signIn('ann');
  assert.equal((await user.request('/admin/keys')).response.status, 403);
  assert.equal((await user.request('/admin/keys/rotate')).response.status, 403);
  const posted = await user.request('/admin/keys/rotate', { method: 'POST', form: { confirm: 'yes' } });
  assert.equal(posted.response.status, 403);
  assert.equal((await kit.store.listSigningKeys()).length, before);
});
