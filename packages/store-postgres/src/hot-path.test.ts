import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withTestDatabase } from './testing.ts';

/**
 * The refresh hot path's grouped statements on one connection: a lone rotation, a batch with a
 * token asked for twice, a token that does not exist and one whose user is disabled, and the named
 * prepared statements they use next to the other statements on that same connection.
 */
await withTestDatabase((db) => {
  test('grouped rotations and lookups on one connection: each outcome reaches its own caller', async () => {
    const store = await db.open(db.newSchema(), 1);
    const user = (id: string, disabled = false) => ({
      id,
      username: id,
      password_hash: 'x',
      disabled,
      created_at: 1,
    });
    await store.createUser(user('u-live'));
    await store.createUser(user('u-off', true));
    const grant = (id: string, subject: string) => ({
      id,
      client_id: 'c1',
      subject,
      resource: 'https://mcp.example/mcp',
      scope: 'tools:list',
      created_at: 1,
      last_used_at: 1,
      expires_at: 99999,
    });
    await store.createGrant(grant('g-live', 'u-live'));
    await store.createGrant(grant('g-off', 'u-off'));
    const token = (hash: string, grantId = 'g-live') => ({
      token_hash: hash,
      grant_id: grantId,
      client_id: 'c1',
      scope: 'tools:list',
      created_at: 1,
      expires_at: 99999,
    });
    for (const hash of ['a', 'b', 'c']) await store.saveRefreshToken(token(hash));
    await store.saveRefreshToken(token('off', 'g-off'));

    // A lone rotation (its own statement), then a code redemption on the same connection.
    assert.deepEqual(await store.rotateRefreshToken('a', token('a1'), 'ra', 10), { status: 'rotated' });
    await store.saveCode({
      code_hash: 'code',
      client_id: 'c1',
      user_id: 'u-live',
      redirect_uri: 'http://127.0.0.1/cb',
      code_challenge: 'x'.repeat(43),
      resource: 'https://mcp.example/mcp',
      scope: 'tools:list',
      expires_at: 2000,
    });
    const times = { created_at: 10, last_used_at: 10, expires_at: 9000 };
    assert.equal((await store.redeemCode('code', { id: 'g-code', ...times }, 10)).status, 'redeemed');
    assert.deepEqual(await store.rotateRefreshToken('a1', token('a2'), 'ra1', 11), { status: 'rotated' });

    // One batch: b twice, c, a token already rotated, one unknown, one of a disabled user.
    const results = await Promise.all([
      store.rotateRefreshToken('b', token('b1'), 'rb1', 12),
      store.rotateRefreshToken('b', token('b2'), 'rb2', 12),
      store.rotateRefreshToken('c', token('c1'), 'rc', 12),
      store.rotateRefreshToken('a', token('a-late'), 'late', 12),
      store.rotateRefreshToken('nope', token('n1'), 'rn', 12),
      store.rotateRefreshToken('off', token('off1'), 'ro', 12),
    ]);
    const [b1, b2, c, late, nope, off] = results;
    assert.deepEqual(
      [b1, b2].map((r) => r?.status).sort(),
      ['already_rotated', 'rotated'],
      'one of the two rotations of b wins',
    );
    const loser = [b1, b2].find((r) => r?.status === 'already_rotated');
    const winner = b1?.status === 'rotated' ? 'b1' : 'b2';
    assert.equal(loser?.status === 'already_rotated' && loser.token.successor_hash, winner);
    assert.equal((await store.getRefreshToken(winner === 'b1' ? 'b2' : 'b1')) ?? 'none', 'none');
    assert.deepEqual(c, { status: 'rotated' });
    assert.equal(late?.status, 'already_rotated');
    assert.equal(late?.status === 'already_rotated' && late.token.successor_hash, 'a1');
    assert.deepEqual(nope, { status: 'not_found' });
    assert.deepEqual(off, { status: 'user_inactive' });
    assert.equal((await store.getGrant('g-live'))?.last_used_at, 12);

    // Grouped lookups: each caller its own answer, the same token twice included.
    const found = await Promise.all(
      ['c', 'c1', 'c', 'nope', 'off'].map((h) => store.getRefreshTokenWithGrant(h)),
    );
    assert.equal(found[0]?.token.successor_hash, 'c1');
    assert.equal(found[1]?.grant?.last_used_at, 12);
    assert.notEqual(found[0], found[2], 'callers do not share objects');
    assert.deepEqual(found[0], found[2]);
    assert.equal(found[3], undefined);
    assert.equal(found[4]?.grant?.subject, 'u-off');
  });
});
