import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsoleBrowser, ISSUER, startConsole } from './console-test-kit.ts';

let kit: Awaited<ReturnType<typeof startConsole>>;
let root: { id: string };
let ann: { id: string };
let bob: { id: string };
const admin = () => new ConsoleBrowser(kit.as);

before(async () => {
  kit = await startConsole();
  root = await kit.addUser('root', true);
  ann = await kit.addUser('ann');
  bob = await kit.addUser('bob');
});
after(() => kit.close());

test('admin grants: search by user, client and server (resource) lists the matching grants only', async () => {
  const annFiles = await kit.grant(ann.id, 'tools:execute:files');
  const annDb = await kit.grant(ann.id, 'tools:execute:db', `${ISSUER}/mcp/db`);
  const bobFiles = await kit.grant(bob.id, 'tools:execute:files');
  const browser = admin();
  await browser.signIn('root');
  const byUser = await browser.request('/admin/grants?user=ann');
  assert.equal(byUser.response.status, 200);
  assert.match(byUser.text, new RegExp(`data-grant="${annFiles.id}"`));
  assert.match(byUser.text, new RegExp(`data-grant="${annDb.id}"`));
  assert.doesNotMatch(byUser.text, new RegExp(bobFiles.id));
  const byServer = await browser.request('/admin/grants?server=files&client=notes-app');
  assert.match(byServer.text, new RegExp(annFiles.id));
  assert.match(byServer.text, new RegExp(bobFiles.id));
  assert.doesNotMatch(byServer.text, new RegExp(annDb.id));
  const byUrl = await browser.request(`/admin/grants?server=${encodeURIComponent(`${ISSUER}/mcp/db`)}`);
  assert.match(byUrl.text, new RegExp(annDb.id));
  assert.doesNotMatch(byUrl.text, new RegExp(annFiles.id));
  assert.match((await browser.request('/admin/grants?client=nobody')).text, /No grants match/);
});

test('RFC 7009 §2: an admin revokes a grant after a confirmation; the guard list refuses it at once, the consent is forgotten, the audit names the admin', async () => {
  const grant = await kit.grant(ann.id, 'tools:execute:files');
  await kit.store.saveConsent({
    user_id: ann.id,
    client_id: 'notes-app',
    resource: grant.resource,
    scope: grant.scope,
    granted_at: kit.clock.now,
  });
  const browser = admin();
  await browser.signIn('root');
  const confirm = await browser.request(`/admin/grants/revoke?grant=${grant.id}`);
  assert.equal(confirm.response.status, 200);
  assert.match(confirm.text, /name="confirm" value="yes"/);
  // Posting without confirm=yes only shows the question again.
  const unconfirmed = await browser.submit(`/admin/grants/revoke?grant=${grant.id}`, '/admin/grants/revoke', {
    grant: grant.id,
  });
  assert.equal(unconfirmed.response.status, 200);
  assert.equal((await kit.store.getGrant(grant.id))?.revoked_at, undefined);
  const done = await browser.submit(`/admin/grants/revoke?grant=${grant.id}`, '/admin/grants/revoke', {
    grant: grant.id,
    confirm: 'yes',
  });
  assert.equal(done.response.status, 303);
  assert.equal(done.response.headers.get('location'), '/admin/grants?revoked_grant');
  assert.ok((await kit.store.getGrant(grant.id))?.revoked_at);
  assert.equal(kit.as.revocations.isRevoked({ jti: 'any', gid: grant.id }), true);
  assert.equal((await kit.store.getConsent(ann.id, 'notes-app', grant.resource))?.scope, '');
  await kit.as.context.flushAudit();
  const [event] = await kit.store.queryAudit({ type: 'grant.revoked', actor: root.id });
  assert.equal(event?.grant_id, grant.id);
  assert.equal(event?.user_id, ann.id, 'whose grant it was');
  assert.equal(event?.client_id, 'notes-app');
});

test('RFC 6750 §3.1: an admin narrows a grant after a confirmation; the grant keeps only the ticked scopes, audited with the admin', async () => {
  const grant = await kit.grant(bob.id, 'tools:execute:files tools:execute:db offline_access');
  const browser = admin();
  await browser.signIn('root');
  const form = await browser.request(`/admin/grants/narrow?grant=${grant.id}`);
  assert.match(form.text, /type="checkbox" name="scope" value="tools:execute:db" checked/);
  const question = await browser.submit(`/admin/grants/narrow?grant=${grant.id}`, '/admin/grants/narrow', {
    grant: grant.id,
    scope: 'tools:execute:files offline_access',
  });
  assert.equal(question.response.status, 200);
  assert.match(question.text, /no longer be able to use tools:execute:db/);
  assert.equal((await kit.store.getGrant(grant.id))?.scope, grant.scope, 'nothing changes before confirming');
  const done = await browser.submit(`/admin/grants/narrow?grant=${grant.id}`, '/admin/grants/narrow', {
    grant: grant.id,
    scope: 'tools:execute:files offline_access',
    confirm: 'yes',
  });
  assert.equal(done.response.status, 303);
  assert.equal((await kit.store.getGrant(grant.id))?.scope, 'tools:execute:files offline_access');
  await kit.as.context.flushAudit();
  const [event] = await kit.store.queryAudit({ type: 'grant.narrowed', actor: root.id });
  assert.equal(event?.grant_id, grant.id);
  assert.deepEqual(event?.detail?.removed, 'tools:execute:db');
});

test('admin grants: a non-admin gets 403 on the page and on revoke; a revoke from another origin is refused', async () => {
  const grant = await kit.grant(ann.id, 'tools:execute:files');
  const user = admin();
  await user.signIn('ann');
  assert.equal((await user.request('/admin/grants')).response.status, 403);
  assert.equal((await user.request(`/admin/grants/revoke?grant=${grant.id}`)).response.status, 403);
  const posted = await user.request('/admin/grants/revoke', {
    method: 'POST',
    form: { grant: grant.id, confirm: 'yes' },
  });
  assert.equal(posted.response.status, 403);
  const browser = admin();
  await browser.signIn('root');
  const crossSite = await browser.submit(
    `/admin/grants/revoke?grant=${grant.id}`,
    '/admin/grants/revoke',
    { grant: grant.id, confirm: 'yes' },
    'https://evil.example',
  );
  assert.equal(crossSite.response.status, 400);
  assert.equal((await kit.store.getGrant(grant.id))?.revoked_at, undefined);
});
