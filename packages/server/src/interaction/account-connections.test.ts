import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsoleBrowser, csrfOf, ISSUER, startConsole } from '../admin/console-test-kit.ts';

let kit: Awaited<ReturnType<typeof startConsole>>;
let ann: { id: string };
let bob: { id: string };
const SECRETS = ['ann-access-SECRET-1', 'ann-refresh-SECRET-2', 'bob-access-SECRET-3'];

before(async () => {
  kit = await startConsole();
  ann = await kit.addUser('ann');
  bob = await kit.addUser('bob');
});
after(() => kit.close());

test('connected accounts: lists the user’s own connections (state, times, Reconnect when broken), never another user’s nor any token', async () => {
  await kit.as.vault.save(ann.id, 'github', {
    access_token: SECRETS[0] as string,
    refresh_token: SECRETS[1],
  });
  await kit.as.vault.save(ann.id, 'gitlab', { access_token: 'ann-access-SECRET-4' });
  // A terminal refresh failure breaks it, as the vault records one.
  const now = kit.clock.now;
  assert.ok(await kit.store.takeConnectionLease(ann.id, 'gitlab', 'test', now, now + 30));
  assert.ok(await kit.store.finishConnectionRefresh(ann.id, 'gitlab', 'test', { broken: true }, now));
  await kit.as.vault.save(bob.id, 'bobsprovider', { access_token: SECRETS[2] as string });
  const browser = new ConsoleBrowser(kit.as);
  await browser.signIn('ann');
  const { response, text } = await browser.request('/account/apps');
  assert.equal(response.status, 200);
  assert.match(text, /Connected accounts/);
  assert.match(text, /data-provider="github"/);
  assert.match(text, /data-provider="gitlab"[\s\S]*href="\/connect\/gitlab">Reconnect/);
  assert.doesNotMatch(text, /bobsprovider/);
  for (const secret of [...SECRETS, 'ann-access-SECRET-4']) assert.ok(!text.includes(secret));
  const stored = await kit.store.getConnection(ann.id, 'github');
  assert.ok(!text.includes(stored?.access_token_encrypted ?? 'x'));
});

test('connected accounts: Remove deletes through the vault (303 back), is audited with the user, and is CSRF-protected', async () => {
  await kit.as.vault.save(ann.id, 'drive', { access_token: 'drive-token' });
  const browser = new ConsoleBrowser(kit.as);
  await browser.signIn('ann');
  // No CSRF token, or a foreign origin: refused, nothing removed.
  const noToken = await browser.request('/account/connections/remove', {
    method: 'POST',
    form: { provider: 'drive' },
    origin: ISSUER,
  });
  assert.equal(noToken.response.status, 400);
  const crossSite = await browser.submit(
    '/account/apps',
    '/account/connections/remove',
    { provider: 'drive' },
    'https://evil.example',
  );
  assert.equal(crossSite.response.status, 400);
  assert.ok(await kit.store.getConnection(ann.id, 'drive'));
  // Another user's connection is not reachable: bob's stays.
  const other = await browser.submit('/account/apps', '/account/connections/remove', {
    provider: 'bobsprovider',
  });
  assert.equal(other.response.status, 404);
  assert.ok(await kit.store.getConnection(bob.id, 'bobsprovider'));
  const done = await browser.submit('/account/apps', '/account/connections/remove', { provider: 'drive' });
  assert.equal(done.response.status, 303);
  assert.equal(done.response.headers.get('location'), '/account/apps?removed');
  assert.equal(await kit.store.getConnection(ann.id, 'drive'), undefined);
  await kit.as.context.flushAudit();
  const [event] = await kit.store.queryAudit({ type: 'connection.removed', actor: ann.id });
  assert.equal(event?.detail?.provider, 'drive');
  assert.ok(csrfOf((await browser.request('/account/apps?removed')).text));
});
