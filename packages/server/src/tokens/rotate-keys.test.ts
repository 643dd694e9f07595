import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { createSecrets } from '../secrets.ts';
import { createAuthorizationServer } from '../server.ts';
import { SqliteStore } from '../store/sqlite.ts';
import type { SigningKeyRecord } from '../store/types.ts';
import { issueAccessToken } from './access-token.ts';
import { KEY_PROPAGATION_DELAY, keyStatus, MAX_ACCESS_TOKEN_TTL, rotateSigningKeys } from './rotate-keys.ts';

const ISSUER = 'http://127.0.0.1:9';
const T0 = 1_800_000_000;

/** A server on an in-memory store with a clock the test moves by hand. */
async function setup() {
  const clock = { now: T0 };
  const store = new SqliteStore(':memory:');
  const as = await createAuthorizationServer({
    issuer: ISSUER,
    store,
    masterSecret: randomBytes(32).toString('base64url'),
    now: () => clock.now,
  });
  const jwks = async () =>
    (
      (await (await as.fetch(new Request(`${ISSUER}/.well-known/jwks.json`))).json()) as {
        keys: { kid: string; d?: string }[];
      }
    ).keys;
  const sign = () =>
    issueAccessToken(as.context.keys.active, {
      issuer: ISSUER,
      subject: 'u',
      resource: `${ISSUER}/mcp`,
      clientId: 'c',
      scope: 'tools:list',
      grantId: 'g',
      now: clock.now,
      ttl: MAX_ACCESS_TOKEN_TTL,
    });
  const close = async () => {
    await as.close();
    await store.close();
  };
  return { clock, store, as, jwks, sign, close };
}

test('key rotation: the new key is published before it signs, and takes over exactly at active_from', async () => {
  const { clock, store, as, jwks, close } = await setup();
  try {
    const old = as.context.keys.active.kid;
    const { created, retired } = await rotateSigningKeys(store, as.context.secrets, clock.now);
    assert.equal(created.active_from, T0 + KEY_PROPAGATION_DELAY);
    assert.deepEqual(
      retired.map((k) => [k.kid, k.retired_at, k.expires_at]),
      [[old, created.active_from, created.active_from + MAX_ACCESS_TOKEN_TTL]],
    );
    await as.context.keys.load(clock.now); // what the server's 30 s reload does
    assert.deepEqual((await jwks()).map((k) => k.kid).sort(), [old, created.kid].sort(), 'both published');
    assert.ok(
      (await jwks()).every((k) => k.d === undefined),
      'no private key in the JWKS',
    );
    assert.equal(as.context.keys.active.kid, old, 'the old key still signs during propagation');
    assert.equal((await store.listSigningKeys()).length, 2, 'a retiring key is no reason to mint another');

    clock.now = created.active_from - 1;
    assert.equal(as.context.keys.active.kid, old);
    clock.now = created.active_from;
    // No reload between: the signing key is chosen by the clock at each use.
    assert.equal(as.context.keys.active.kid, created.kid);
    await as.context.keys.load(clock.now);
    assert.equal(as.context.keys.active.kid, created.kid);
  } finally {
    await close();
  }
});

test('key rotation: the old key stays published until every token it signed has expired, then disappears', async () => {
  const { clock, store, as, jwks, sign, close } = await setup();
  try {
    const old = as.context.keys.active.kid;
    const { created } = await rotateSigningKeys(store, as.context.secrets, clock.now);
    await as.context.keys.load(clock.now);
    clock.now = created.active_from - 1;
    const last = await sign(); // the last token the old key signs
    assert.equal(last.claims.exp, created.active_from - 1 + MAX_ACCESS_TOKEN_TTL);

    clock.now = last.claims.exp - 1; // the token is still valid: its key must still be published
    const set = createLocalJWKSet({ keys: await jwks() } as JSONWebKeySet);
    const verified = await jwtVerify(last.token, set, { currentDate: new Date(clock.now * 1000) });
    assert.equal(verified.protectedHeader.kid, old);
    assert.equal(keyStatus((await store.listSigningKeys())[0] as SigningKeyRecord, clock.now), 'retiring');

    clock.now = created.active_from + MAX_ACCESS_TOKEN_TTL;
    assert.deepEqual(
      (await jwks()).map((k) => k.kid),
      [created.kid],
      'unpublished once nothing it signed is valid',
    );
    const states = (await store.listSigningKeys()).map((k) => keyStatus(k, clock.now));
    assert.deepEqual(states, ['expired', 'signing']);
  } finally {
    await close();
  }
});

test('key rotation: a second rotation during propagation hands over in order, never leaving a gap', async () => {
  const { clock, store, as, close } = await setup();
  try {
    const first = await rotateSigningKeys(store, as.context.secrets, clock.now);
    clock.now += 10;
    const second = await rotateSigningKeys(store, as.context.secrets, clock.now);
    await as.context.keys.load(clock.now);
    const keys = await store.listSigningKeys();
    const byKid = new Map(keys.map((k) => [k.kid, k]));
    assert.equal(byKid.get(first.created.kid)?.retired_at, second.created.active_from);
    for (let t = T0; t <= second.created.active_from + 5; t++) {
      clock.now = t;
      const expected =
        t < first.created.active_from
          ? keys[0]?.kid
          : t < second.created.active_from
            ? first.created.kid
            : second.created.kid;
      assert.equal(as.context.keys.active.kid, expected, `signing key at T0+${t - T0}`);
    }
  } finally {
    await close();
  }
});

test('key rotation: on an empty store the first key signs at once, and its private half is encrypted at rest', async () => {
  const store = new SqliteStore(':memory:');
  try {
    const { created, retired } = await rotateSigningKeys(
      store,
      createSecrets(randomBytes(32).toString('base64url')),
      T0,
    );
    assert.equal(created.active_from, T0);
    assert.deepEqual(retired, []);
    const [saved] = await store.listSigningKeys();
    assert.match(saved?.private_jwk_encrypted ?? '', /^v1\./);
    assert.ok(!(saved?.private_jwk_encrypted ?? '').includes('"d"'));
    assert.equal(keyStatus(saved as SigningKeyRecord, T0), 'signing');
  } finally {
    await store.close();
  }
});
