import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsoleBrowser, startConsole } from './console-test-kit.ts';

let kit: Awaited<ReturnType<typeof startConsole>>;
let root: { id: string };
let ann: { id: string };
const browser = () => new ConsoleBrowser(kit.as);

before(async () => {
  kit = await startConsole();
  root = await kit.addUser('root', true);
  ann = await kit.addUser('ann');
  await kit.as.vault.save(ann.id, 'github', {
    access_token: 'ann-ACCESS-secret',
    refresh_token: 'ann-REFRESH-secret',
  });
});
after(() => kit.close());

test('admin connections: lists each user’s connections by provider and state, never a token value', async () => {
  const admin = browser();
  await admin.signIn('root');
  const { response, text } = await admin.request('/admin/connections');
  assert.equal(response.status, 200);
  assert.match(text, new RegExp(`data-user="${ann.id}" data-provider="github"><td>ann</td>`));
  assert.match(text, /Active/);
  assert.ok(!text.includes('ann-ACCESS-secret') && !text.includes('ann-REFRESH-secret'));
  const row = await kit.store.getConnection(ann.id, 'github');
  assert.ok(!text.includes(row?.access_token_encrypted ?? 'x'));
});

test('admin connections: 403 for a non-admin on the page and on remove', async () => {
  const user = browser();
  await user.signIn('ann');
  assert.equal((await user.request('/admin/connections')).response.status, 403);
  assert.equal(
    (await user.request(`/admin/connections/remove?user=${ann.id}&provider=github`)).response.status,
    403,
  );
  const posted = await user.request('/admin/connections/remove', {
    method: 'POST',
    form: { user: ann.id, provider: 'github', confirm: 'yes' },
  });
  assert.equal(posted.response.status, 403);
  assert.ok(await kit.store.getConnection(ann.id, 'github'));
});

test('admin connections: Remove after a confirmation deletes through the vault, audited with the admin', async () => {
  const admin = browser();
  await admin.signIn('root');
  const ask = `/admin/connections/remove?user=${ann.id}&provider=github`;
  const confirm = await admin.request(ask);
  assert.equal(confirm.response.status, 200);
  assert.match(confirm.text, /name="confirm" value="yes"/);
  assert.ok(!confirm.text.includes('ann-ACCESS-secret'));
  const unconfirmed = await admin.submit(ask, '/admin/connections/remove', {
    user: ann.id,
    provider: 'github',
  });
  assert.equal(unconfirmed.response.status, 200);
  assert.ok(await kit.store.getConnection(ann.id, 'github'), 'nothing changes before confirming');
  const done = await admin.submit(ask, '/admin/connections/remove', {
    user: ann.id,
    provider: 'github',
    confirm: 'yes',
  });
  assert.equal(done.response.status, 303);
  assert.equal(done.response.headers.get('location'), '/admin/connections?removed');
  assert.equal(await kit.store.getConnection(ann.id, 'github'), undefined);
  await kit.as.context.flushAudit();
  const [event] = await kit.store.queryAudit({ type: 'connection.removed', actor: root.id });
  assert.equal(event?.user_id, ann.id);
  assert.equal(event?.detail?.provider, 'github');
});
