import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminBrowser } from './admin-browser.ts';
import { type Harness, startAuthorizationServer } from './harness.ts';

/**
 * The admin console's users page (issue #13) over real HTTP: every action asks for confirmation
 * when it is destructive, needs the admin form's CSRF token, and is audited with the acting admin.
 */
let h: Harness;
let root: Awaited<ReturnType<Harness['addUser']>>;
let admin: ReturnType<typeof adminBrowser>;

before(async () => {
  h = await startAuthorizationServer();
  root = await h.addUser('root');
  await h.store.setUserAdmin(root.id, true);
  admin = adminBrowser(h);
});
after(async () => {
  await h.close();
});

async function audited(type: string, userId: string) {
  await h.as.context.flushAudit();
  return h.store.queryAudit({ type, user_id: userId });
}

describe('admin users page', () => {
  test('sign-in sent from an admin page returns to it; the list searches by name', async () => {
    await h.addUser('ann');
    await h.addUser('bob');
    const signedIn = await admin.signIn(root, '/admin/users?q=AN');
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.location, '/admin/users?q=AN');
    const page = await admin.request('/admin/users?q=AN');
    assert.equal(page.status, 200);
    assert.match(page.text, />ann</);
    assert.doesNotMatch(page.text, />bob</);
    assert.match(page.text, /Linked identities/);
    assert.doesNotMatch(page.text, /<script/i);
  });

  test('disabling asks first, then signs the user out everywhere, revokes their grants and is audited with the admin', async () => {
    const carol = await h.addUser('carol');
    const client = await h.addClient();
    await h.authorize(client, carol);
    const [grant] = await h.store.listGrants({ subject: carol.id });
    const confirm = await admin.request(`/admin/users/disable?user=${carol.id}`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /Disable carol\?/);
    assert.match(confirm.text, /name="confirm" value="yes"/);
    // Without confirm=yes nothing happens: the browser is sent to the question.
    const unconfirmed = await admin.submit(`/admin/users/disable?user=${carol.id}`, '/admin/users/disable', {
      user: carol.id,
    });
    assert.equal(unconfirmed.status, 303);
    assert.equal((await h.store.getUser(carol.id))?.disabled, false);
    const done = await admin.submit(`/admin/users/disable?user=${carol.id}`, '/admin/users/disable', {
      user: carol.id,
      confirm: 'yes',
    });
    assert.equal(done.status, 303);
    assert.equal(done.location, '/admin/users?done=disabled');
    assert.equal((await h.store.getUser(carol.id))?.disabled, true);
    assert.notEqual((await h.store.getGrant(grant?.id as string))?.revoked_at, undefined);
    const [event] = await audited('admin.user_disabled', carol.id);
    assert.equal(event?.actor, root.id);

    const enabled = await admin.submit('/admin/users', '/admin/users/enable', { user: carol.id });
    assert.equal(enabled.status, 303);
    assert.equal((await h.store.getUser(carol.id))?.disabled, false);
    assert.equal((await audited('admin.user_enabled', carol.id))[0]?.actor, root.id);
  });

  test('RFC 6749 §10.12: an admin action without the form token, or from another origin, is refused', async () => {
    const dave = await h.addUser('dave');
    const forged = await admin.request('/admin/users/remove', { form: { user: dave.id, confirm: 'yes' } });
    assert.equal(forged.status, 400);
    const crossSite = await admin.submit(
      `/admin/users/remove?user=${dave.id}`,
      '/admin/users/remove',
      { user: dave.id, confirm: 'yes' },
      'https://attacker.example',
    );
    assert.equal(crossSite.status, 400);
    // A token for another form (the account pages') is not an admin token.
    assert.ok(await h.store.getUser(dave.id));
  });

  test('removing deletes the account and revokes every grant; promote and demote change the role', async () => {
    const erin = await h.addUser('erin');
    const client = await h.addClient();
    await h.authorize(client, erin);
    const promoted = await admin.submit(`/admin/users/promote?user=${erin.id}`, '/admin/users/promote', {
      user: erin.id,
      confirm: 'yes',
    });
    assert.equal(promoted.status, 303);
    assert.equal((await h.store.getUser(erin.id))?.admin, true);
    assert.equal((await audited('admin.user_promoted', erin.id))[0]?.actor, root.id);
    await admin.submit(`/admin/users/demote?user=${erin.id}`, '/admin/users/demote', {
      user: erin.id,
      confirm: 'yes',
    });
    assert.equal((await h.store.getUser(erin.id))?.admin, undefined);
    const [grant] = await h.store.listGrants({ subject: erin.id });
    const removed = await admin.submit(`/admin/users/remove?user=${erin.id}`, '/admin/users/remove', {
      user: erin.id,
      confirm: 'yes',
    });
    assert.equal(removed.location, '/admin/users?done=removed');
    assert.equal(await h.store.getUser(erin.id), undefined);
    assert.notEqual((await h.store.getGrant(grant?.id as string))?.revoked_at, undefined);
    assert.equal((await audited('admin.user_removed', erin.id))[0]?.actor, root.id);
  });

  test('an admin cannot demote, disable or remove their own account', async () => {
    for (const action of ['demote', 'disable', 'remove']) {
      const res = await admin.submit(`/admin/users/${action}?user=${root.id}`, `/admin/users/${action}`, {
        user: root.id,
        confirm: 'yes',
      });
      assert.equal(res.location, '/admin/users?done=self', action);
    }
    const me = await h.store.getUser(root.id);
    assert.equal(me?.admin, true);
    assert.equal(me?.disabled, false);
  });

  test('a non-admin gets 403 on the users page, a confirmation and an action; an unknown action is 404', async () => {
    const frank = await h.addUser('frank');
    const user = adminBrowser(h);
    await user.signIn(frank);
    assert.equal((await user.request('/admin/users')).status, 403);
    assert.equal((await user.request(`/admin/users/remove?user=${root.id}`)).status, 403);
    const posted = await user.request('/admin/users/promote', { form: { user: frank.id, confirm: 'yes' } });
    assert.equal(posted.status, 403);
    assert.equal((await h.store.getUser(frank.id))?.admin, undefined);
    assert.equal((await admin.request(`/admin/users/toString?user=${frank.id}`)).status, 404);
    assert.equal((await admin.request('/admin/users/remove?user=nobody')).status, 404);
  });
});
