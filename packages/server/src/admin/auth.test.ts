import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { frozenClock, type Harness, startAuthorizationServer } from '../../test/harness.ts';
import { startSession } from '../interaction/session.ts';
import type { UserRecord } from '../store/types.ts';
import { requireAdmin } from './auth.ts';
import { adminReturnPath } from './return-path.ts';

/** `requireAdmin` against a real server's context and SQLite store, with a frozen clock. */
const clock = frozenClock();
let h: Harness;

before(async () => {
  h = await startAuthorizationServer({ now: clock.now });
});
after(async () => {
  await h.close();
});

/** A request to `path` carrying a fresh session of `user`. */
async function signedIn(user: UserRecord, path = '/admin/users?q=a'): Promise<Request> {
  const cookie = (await startSession(h.as.context, user)).split(';')[0] as string;
  return new Request(`${h.issuer}${path}`, { headers: { cookie } });
}

describe('requireAdmin (issue #13)', () => {
  test('nobody signed in gets 303 to /login, which returns to the admin page asked for', async () => {
    const res = await requireAdmin(h.as.context, new Request(`${h.issuer}/admin/users?q=a`));
    assert.ok(res instanceof Response);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/login?return=${encodeURIComponent('/admin/users?q=a')}`);
  });

  test('a signed-in user without the admin role gets a 403 page', async () => {
    const user = await h.addUser('plain');
    const res = await requireAdmin(h.as.context, await signedIn(user));
    assert.ok(res instanceof Response);
    assert.equal(res.status, 403);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await res.text(), /administrators only/);
  });

  test('a signed-in admin is the user', async () => {
    const user = await h.addUser('root');
    await h.store.setUserAdmin(user.id, true);
    const res = await requireAdmin(h.as.context, await signedIn(user));
    assert.ok(!(res instanceof Response));
    assert.equal(res.id, user.id);
  });

  test('an admin session older than adminSessionTtl (1 h) is signed out for /admin', async () => {
    const user = await h.addUser('sleepy');
    await h.store.setUserAdmin(user.id, true);
    const request = await signedIn(user);
    clock.advance(3599);
    assert.ok(!((await requireAdmin(h.as.context, request)) instanceof Response));
    clock.advance(1);
    const res = await requireAdmin(h.as.context, request);
    assert.ok(res instanceof Response);
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /^\/login\?return=/);
  });

  test('a disabled admin is signed out', async () => {
    const user = await h.addUser('gone');
    await h.store.setUserAdmin(user.id, true);
    const request = await signedIn(user);
    await h.store.setUserDisabled(user.id, true);
    const res = await requireAdmin(h.as.context, request);
    assert.ok(res instanceof Response);
    assert.equal(res.status, 303);
  });
});

describe('the admin return path (no open redirect)', () => {
  test('only paths under /admin are returned to', () => {
    assert.equal(adminReturnPath('/admin'), '/admin');
    assert.equal(adminReturnPath('/admin/users?q=ann'), '/admin/users?q=ann');
    for (const bad of [
      'https://evil.example/admin',
      '//evil.example/admin',
      '/administrator',
      '/account',
      '/admin\\evil',
    ]) {
      assert.equal(adminReturnPath(bad), undefined, bad);
    }
  });
});
