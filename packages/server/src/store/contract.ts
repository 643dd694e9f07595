import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminStoreContract } from './admin.contract.ts';
import { auditQueryContract } from './audit-query.contract.ts';
import { connectionsStoreContract } from './connections.contract.ts';
import { identitiesStoreContract } from './identities.contract.ts';
import type { ClientRecord, GrantRecord, Store, UserRecord } from './types.ts';

/**
 * The contract every store must pass. A store's own test file calls this with a factory that
 * returns a fresh, empty store (a new SQLite file, a new PostgreSQL schema, …).
 */
export function storeContract(name: string, open: () => Promise<Store>): void {
  auditQueryContract(name, open);
  adminStoreContract(name, open);
  identitiesStoreContract(name, open);
  connectionsStoreContract(name, open);
  describe(`store contract: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });

    const client = (id: string, kind: ClientRecord['kind'] = 'preregistered'): ClientRecord => ({
      client_id: id,
      kind,
      client_name: `App ${id}`,
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'tools:list',
      created_at: 1000,
    });
    const user = (id: string, username: string): UserRecord => ({
      id,
      username,
      password_hash: 'x',
      disabled: false,
      created_at: 1,
    });
    const grant = (id: string, subject = 'user-1'): GrantRecord => ({
      id,
      client_id: 'c1',
      subject,
      resource: 'https://mcp.example/mcp',
      scope: 'tools:list',
      created_at: 1000,
      last_used_at: 1000,
      expires_at: 1000 + 86400,
    });

    test('clients round-trip with their metadata; duplicates are refused; kinds are counted', async () => {
      await store.createClient({ ...client('c1'), secret_hash: 'h', application_type: 'native' });
      await store.createClient(client('c2', 'dcr'));
      await assert.rejects(store.createClient(client('c1')));
      assert.deepEqual(await store.getClient('c1'), {
        ...client('c1'),
        secret_hash: 'h',
        application_type: 'native',
      });
      assert.equal(await store.countClients('dcr'), 1);
      await store.upsertClient({ ...client('c2', 'dcr'), client_name: 'Renamed' });
      assert.equal((await store.getClient('c2'))?.client_name, 'Renamed');
      assert.ok(await store.deleteClient('c2'));
      assert.equal(await store.getClient('c2'), undefined);
      assert.deepEqual(
        (await store.listClients()).map((c) => c.client_id),
        ['c1'],
      );
    });

    test('users are unique by name and can be disabled and removed', async () => {
      const user = { id: 'u1', username: 'ada', password_hash: 'x', disabled: false, created_at: 1 };
      await store.createUser(user);
      await assert.rejects(store.createUser({ ...user, id: 'u2' }));
      assert.deepEqual(await store.getUserByName('ada'), user);
      assert.ok(await store.setUserDisabled('u1', true));
      assert.equal((await store.getUser('u1'))?.disabled, true);
      assert.ok(await store.deleteUser('u1'));
      assert.equal(await store.getUser('u1'), undefined);
    });

    test('a code keeps whether its user declined offline_access', async () => {
      await store.createUser(user('u-offline', 'offline-owner'));
      const base = {
        client_id: 'c-offline',
        user_id: 'u-offline',
        redirect_uri: '',
        code_challenge: 'x'.repeat(43),
        resource: 'https://mcp.example/mcp',
        scope: 'tools:list',
        expires_at: 2000,
      };
      await store.saveCode({ ...base, code_hash: 'code-declined', offline_declined: true });
      await store.saveCode({ ...base, code_hash: 'code-default' });
      const times = { created_at: 1500, last_used_at: 1500, expires_at: 9000 };
      const declined = await store.redeemCode('code-declined', { id: 'g-declined', ...times }, 1500);
      const plain = await store.redeemCode('code-default', { id: 'g-default', ...times }, 1500);
      assert.ok(declined.status === 'redeemed' && plain.status === 'redeemed');
      assert.equal(declined.code.offline_declined, true);
      assert.equal(plain.code.offline_declined, undefined);
    });

    test('RFC 6749 §4.1.2: a code is redeemed exactly once, even when redeemed concurrently', async () => {
      await store.createUser(user('u-code', 'code-owner'));
      await store.saveCode({
        code_hash: 'code-1',
        client_id: 'c1',
        user_id: 'u-code',
        redirect_uri: 'http://127.0.0.1/cb',
        code_challenge: 'x'.repeat(43),
        resource: 'https://mcp.example/mcp',
        scope: 'tools:list',
        expires_at: 2000,
      });
      const times = { created_at: 1500, last_used_at: 1500, expires_at: 9000 };
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.redeemCode('code-1', { id: `grant-${i}`, ...times }, 1500),
        ),
      );
      const redeemed = results.filter((r) => r.status === 'redeemed');
      assert.equal(redeemed.length, 1);
      const winner = redeemed[0];
      assert.ok(winner?.status === 'redeemed');
      for (const r of results.filter((r) => r.status !== 'redeemed')) {
        assert.equal(r.status, 'replayed');
        assert.ok(r.status === 'replayed');
        assert.equal(r.code.grant_id, winner.code.grant_id, 'a replay names the grant the code produced');
      }
      const produced = await store.getGrant(winner.code.grant_id as string);
      assert.equal(produced?.subject, 'u-code', 'the grant is created with the redemption');
      assert.equal(produced?.scope, 'tools:list');
      assert.equal((await store.listGrants({ client_id: 'c1' })).length, 1, 'and only one grant');
      assert.deepEqual(await store.redeemCode('no-such-code', { id: 'g', ...times }, 1500), {
        status: 'not_found',
      });
    });

    test('grants are listed by subject and client; revoking records one revocation entry', async () => {
      await store.createGrant(grant('g1'));
      await store.createGrant(grant('g2', 'user-2'));
      assert.deepEqual(
        (await store.listGrants({ subject: 'user-1' })).map((g) => g.id),
        ['g1'],
      );
      assert.equal((await store.listGrants({ client_id: 'c1' })).length, 3);

      const before = await store.listRevocations(0, 1500);
      assert.equal(await store.revokeGrant('g1', 1500, 5100), true);
      assert.equal(await store.revokeGrant('g1', 1501, 5100), false, 'a second revocation is a no-op');
      const entries = (await store.listRevocations(0, 1500)).slice(before.length);
      assert.equal(entries.length, 1);
      assert.equal(entries[0]?.grant_id, 'g1');
      assert.equal((await store.getGrant('g1'))?.revoked_at, 1500);
      assert.deepEqual(
        (await store.listGrants({ subject: 'user-1' })).map((g) => g.id),
        [],
      );
      assert.equal((await store.listGrants({ subject: 'user-1', include_revoked: true })).length, 1);
      assert.equal(await store.isRevoked('any-jti', 'g1'), true);
      assert.equal(await store.isRevoked('any-jti', 'g2'), false);
    });

    test('revocation entries are ordered, resumable by seq, and expire with their tokens', async () => {
      await store.revokeAccessToken('jti-1', 3000);
      await store.revokeAccessToken('jti-2', 9000);
      const all = await store.listRevocations(0, 2000);
      const last = all.at(-1);
      assert.equal(last?.jti, 'jti-2');
      assert.deepEqual(
        (await store.listRevocations(all.at(-2)?.seq ?? 0, 2000)).map((r) => r.jti),
        ['jti-2'],
      );
      assert.ok(
        !(await store.listRevocations(0, 3000)).some((r) => r.jti === 'jti-1'),
        'expired entries drop out',
      );
      assert.equal(await store.isRevoked('jti-2', undefined), true);
      await store.prune(9000);
      assert.equal(
        await store.isRevoked('jti-2', undefined),
        false,
        'pruned once every token it covers expired',
      );
    });

    test('refresh tokens are stored by hash', async () => {
      await store.saveRefreshToken({
        token_hash: 'rt-1',
        grant_id: 'g2',
        client_id: 'c1',
        scope: 'tools:list',
        created_at: 1,
        expires_at: 99999,
      });
      assert.equal((await store.getRefreshToken('rt-1'))?.grant_id, 'g2');
      assert.equal(await store.getRefreshToken('rt-2'), undefined);
    });

    test('a refresh token is read with its grant in one call; a token whose grant is gone comes without one', async () => {
      await store.createGrant({ ...grant('g-with'), scope: 'tools:list tools:call', last_used_at: 7 });
      const token = {
        token_hash: 'rt-with',
        grant_id: 'g-with',
        client_id: 'c1',
        scope: 'tools:list',
        created_at: 3,
        expires_at: 99999,
      };
      await store.saveRefreshToken(token);
      assert.deepEqual(await store.getRefreshTokenWithGrant('rt-with'), {
        token: await store.getRefreshToken('rt-with'),
        grant: await store.getGrant('g-with'),
      });
      await store.saveRefreshToken({ ...token, token_hash: 'rt-orphan', grant_id: 'g-missing' });
      const orphan = await store.getRefreshTokenWithGrant('rt-orphan');
      assert.equal(orphan?.token.grant_id, 'g-missing');
      assert.equal(orphan?.grant, undefined);
      assert.equal(await store.getRefreshTokenWithGrant('rt-none'), undefined);
    });

    test('refresh rotation is a compare-and-swap: 50 concurrent rotations of one token leave one successor', async () => {
      await store.createUser(user('user-1', 'rotating-user'));
      await store.createGrant({ ...grant('g-rot'), last_used_at: 1 });
      const base = {
        grant_id: 'g-rot',
        client_id: 'c1',
        scope: 'tools:list',
        created_at: 1,
        expires_at: 99999,
      };
      await store.saveRefreshToken({ ...base, token_hash: 'rot-0' });
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.rotateRefreshToken('rot-0', { ...base, token_hash: `rot-1-${i}` }, `response-${i}`, 10),
        ),
      );
      assert.equal(results.filter((r) => r.status === 'rotated').length, 1);
      const old = await store.getRefreshToken('rot-0');
      assert.ok(old?.successor_hash);
      for (const r of results) {
        if (r.status === 'already_rotated') assert.equal(r.token.successor_hash, old.successor_hash);
      }
      const live = [];
      for (let i = 0; i < 50; i++) if (await store.getRefreshToken(`rot-1-${i}`)) live.push(i);
      assert.equal(live.length, 1, 'exactly one successor exists');
      assert.equal((await store.getGrant('g-rot'))?.last_used_at, 10, 'the rotation marks the grant used');
      assert.equal(old.successor_response, `response-${live[0]}`, "the stored response is the winner's");
      assert.deepEqual(await store.rotateRefreshToken('missing', { ...base, token_hash: 'x' }, 'r', 10), {
        status: 'not_found',
      });
    });

    test('signing keys keep their encrypted private part and lifecycle times', async () => {
      await store.saveSigningKey({
        kid: 'k1',
        alg: 'ES256',
        public_jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
        private_jwk_encrypted: 'v1.a.b.c',
        created_at: 1,
        active_from: 1,
      });
      await store.updateSigningKey('k1', { retired_at: 10, expires_at: 3610 });
      const [key] = await store.listSigningKeys();
      assert.equal(key?.private_jwk_encrypted, 'v1.a.b.c');
      assert.equal(key?.expires_at, 3610);
      assert.deepEqual(key?.public_jwk, { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' });
    });

    test('instances starting together on an empty store agree on one first signing key', async (t) => {
      const saveIfNone = store.saveSigningKeyIfNoneSigns?.bind(store);
      if (!saveIfNone) return t.skip('this store has no conditional key save');
      // k1 above retired at 10: at 1000 no key signs, and twenty instances race to create one.
      const key = (kid: string) => ({
        kid,
        alg: 'ES256',
        public_jwk: { kid },
        private_jwk_encrypted: 'v1.a.b.c',
        created_at: 1000,
        active_from: 1000,
      });
      const saved = await Promise.all(
        Array.from({ length: 20 }, (_, i) => saveIfNone(key(`race-${i}`), 1000)),
      );
      assert.equal(saved.filter(Boolean).length, 1);
      const winners = (await store.listSigningKeys()).filter((k) => k.kid.startsWith('race-'));
      assert.equal(winners.length, 1);
      assert.equal(saved.indexOf(true), Number(winners[0]?.kid.slice(5)));
      assert.equal(await saveIfNone(key('late'), 2000), false, 'a key that signs already stops the next one');
    });

    test('consents are kept per user, client and resource', async () => {
      await store.saveConsent({ user_id: 'u', client_id: 'c1', resource: 'r', scope: 'a', granted_at: 1 });
      await store.saveConsent({ user_id: 'u', client_id: 'c1', resource: 'r', scope: 'a b', granted_at: 2 });
      assert.equal((await store.getConsent('u', 'c1', 'r'))?.scope, 'a b');
      assert.equal(await store.getConsent('u', 'c1', 'other'), undefined);
    });

    test('sessions and interactions expire', async () => {
      await store.createSession({ id_hash: 's1', user_id: 'u', created_at: 1, expires_at: 100 });
      assert.equal((await store.getSession('s1', 50))?.user_id, 'u');
      assert.equal(await store.getSession('s1', 100), undefined);
      await store.createSession({ id_hash: 's2', user_id: 'u', created_at: 1, expires_at: 100 });
      await store.deleteUserSessions('u');
      assert.equal(await store.getSession('s2', 50), undefined);
      await store.saveInteraction({ id: 'i1', request: '{}', expires_at: 100 });
      assert.equal((await store.getInteraction('i1', 50))?.request, '{}');
      assert.equal(await store.getInteraction('i1', 100), undefined);
      assert.equal(await store.takeInteraction('i1', 100), undefined, 'an expired interaction is not taken');
    });

    test('an interaction is taken once: of 20 concurrent takers exactly one gets it', async () => {
      await store.saveInteraction({ id: 'i2', request: '{"a":1}', expires_at: 100 });
      const taken = await Promise.all(Array.from({ length: 20 }, () => store.takeInteraction('i2', 50)));
      assert.deepEqual(
        taken.filter((t) => t !== undefined).map((t) => t.request),
        ['{"a":1}'],
      );
      assert.equal(await store.getInteraction('i2', 50), undefined, 'and it is gone');
    });

    test('a code whose user was disabled or removed since it was issued is not redeemed, and stays unused', async () => {
      const times = { created_at: 1500, last_used_at: 1500, expires_at: 9000 };
      const code = (code_hash: string, user_id: string) => ({
        code_hash,
        client_id: 'c-inactive',
        user_id,
        redirect_uri: '',
        code_challenge: 'x'.repeat(43),
        resource: 'https://mcp.example/mcp',
        scope: 'tools:list',
        expires_at: 2000,
      });
      await store.createUser(user('u-disabled', 'soon-disabled'));
      await store.createUser(user('u-removed', 'soon-removed'));
      await store.saveCode(code('code-disabled', 'u-disabled'));
      await store.saveCode(code('code-removed', 'u-removed'));
      await store.setUserDisabled('u-disabled', true);
      await store.deleteUser('u-removed');
      assert.deepEqual(await store.redeemCode('code-disabled', { id: 'g-d', ...times }, 1500), {
        status: 'user_inactive',
      });
      assert.deepEqual(await store.redeemCode('code-removed', { id: 'g-r', ...times }, 1500), {
        status: 'user_inactive',
      });
      assert.deepEqual(await store.listGrants({ client_id: 'c-inactive', include_revoked: true }), []);
      await store.setUserDisabled('u-disabled', false);
      assert.equal(
        (await store.redeemCode('code-disabled', { id: 'g-d', ...times }, 1500)).status,
        'redeemed',
        'the refusal consumed nothing',
      );
    });

    test('a refresh token whose user was disabled or removed is not rotated', async () => {
      const base = { client_id: 'c1', scope: 'tools:list', created_at: 1, expires_at: 99999 };
      for (const [id, state] of [
        ['u-rt-disabled', 'disabled'],
        ['u-rt-removed', 'removed'],
      ] as const) {
        await store.createUser(user(id, id));
        await store.createGrant({ ...grant(`g-${id}`, id), client_id: 'c1' });
        await store.saveRefreshToken({ ...base, grant_id: `g-${id}`, token_hash: `rt-${id}` });
        if (state === 'disabled') await store.setUserDisabled(id, true);
        else await store.deleteUser(id);
        assert.deepEqual(
          await store.rotateRefreshToken(
            `rt-${id}`,
            { ...base, grant_id: `g-${id}`, token_hash: `rt-${id}-next` },
            'r',
            10,
          ),
          { status: 'user_inactive' },
          state,
        );
        assert.equal(await store.getRefreshToken(`rt-${id}-next`), undefined, 'no successor');
        assert.equal((await store.getRefreshToken(`rt-${id}`))?.rotated_at, undefined);
      }
    });

    test('resource_server is kept in its own column: set by an administrator, false unless set', async () => {
      await store.createClient({ ...client('rs-1'), resource_server: true });
      await store.createClient(client('rs-2'));
      assert.equal((await store.getClient('rs-1'))?.resource_server, true);
      assert.equal((await store.getClient('rs-2'))?.resource_server, undefined);
      await store.upsertClient({ ...client('rs-1'), client_name: 'Renamed' });
      assert.equal((await store.getClient('rs-1'))?.resource_server, undefined, 'an upsert replaces it');
    });

    test('rate-limit windows count hits and start afresh', async () => {
      assert.equal(await store.hitRateLimit('login:ada', 60, 120), 1);
      assert.equal(await store.hitRateLimit('login:ada', 60, 150), 2);
      assert.equal(await store.hitRateLimit('login:ada', 60, 180), 1);
      assert.equal(await store.hitRateLimit('login:bob', 60, 180), 1);
      assert.equal(await store.countRateLimit('login:bob', 60, 200), 1, 'reading does not count');
      assert.equal(await store.countRateLimit('login:bob', 60, 200), 1);
      assert.equal(await store.countRateLimit('login:carol', 60, 200), 0);
    });

    test('rate-limit hits are atomic: 50 concurrent hits see each count from 1 to 50 once; a refund takes one back', async () => {
      const counts = await Promise.all(
        Array.from({ length: 50 }, () => store.hitRateLimit('burst', 60, 600)),
      );
      assert.deepEqual(
        counts.sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      await store.refundRateLimit('burst', 60, 610);
      assert.equal(await store.countRateLimit('burst', 60, 610), 49);
      await store.refundRateLimit('never-hit', 60, 610);
      assert.equal(await store.countRateLimit('never-hit', 60, 610), 0, 'a refund never goes below zero');
      assert.equal(await store.hitRateLimit('never-hit', 60, 610), 1);
    });

    test('narrowing a grant caps its scope and records one narrowing entry, which is not a revocation', async () => {
      const wide = 'tools:list tools:execute resources:read offline_access';
      await store.createGrant({ ...grant('g-narrow'), client_id: 'c-narrow', scope: wide });
      const seen = (await store.listRevocations(0, 10_000)).at(-1)?.seq ?? 0;
      const kept = 'tools:list resources:read offline_access';
      assert.equal(await store.narrowGrant('g-narrow', kept, 10_000, 13_600), kept);
      assert.equal(
        (await store.getGrant('g-narrow'))?.scope,
        kept,
        'refreshes issue at most this from now on',
      );
      assert.equal((await store.getGrant('g-narrow'))?.revoked_at, undefined);
      const entries = await store.listRevocations(seen, 10_000);
      assert.deepEqual(
        entries.map((e) => [e.grant_id, e.jti, e.scope, e.expires_at]),
        [['g-narrow', undefined, kept, 13_600]],
      );
      assert.equal(await store.isRevoked('any-jti', 'g-narrow'), false, 'its tokens are capped, not revoked');

      // A second page opened before the first narrowing cannot give back what was removed.
      assert.equal(
        await store.narrowGrant('g-narrow', 'tools:list tools:execute', 10_001, 13_601),
        'tools:list',
      );
      // Narrowing to what the grant already is changes nothing and records nothing.
      assert.equal(
        await store.narrowGrant('g-narrow', 'tools:list resources:read', 10_002, 13_602),
        'tools:list',
      );
      assert.deepEqual(
        (await store.listRevocations(seen, 10_000)).map((e) => e.scope),
        [kept, 'tools:list'],
      );

      assert.equal(await store.narrowGrant('no-such-grant', 'tools:list', 10_003, 13_603), undefined);
      await store.revokeGrant('g-narrow', 10_004, 13_604);
      assert.equal(
        await store.narrowGrant('g-narrow', '', 10_005, 13_605),
        undefined,
        'a revoked grant stays revoked',
      );
      assert.equal(await store.isRevoked('any-jti', 'g-narrow'), true);
    });

    test('concurrent narrowings of one grant never widen it: it ends with what every one of them allows', async () => {
      await store.createGrant({
        ...grant('g-narrow-race'),
        client_id: 'c-narrow',
        scope: 'tools:list tools:execute resources:read prompts:list',
      });
      const caps = [
        'tools:list tools:execute resources:read',
        'tools:list tools:execute:filesystem resources:read prompts:list',
        'tools:list tools:execute prompts:list',
      ];
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          store.narrowGrant('g-narrow-race', caps[i % caps.length] as string, 11_000, 14_600),
        ),
      );
      assert.deepEqual((await store.getGrant('g-narrow-race'))?.scope.split(' ').sort(), [
        'tools:execute:filesystem',
        'tools:list',
      ]);
    });

    test('audit events append in order and page by id', async () => {
      await store.appendAudit({ at: 1, type: 'login', user_id: 'u', detail: { ip: '127.0.0.1' } });
      await store.appendAudit({ at: 2, type: 'consent', user_id: 'u', client_id: 'c1' });
      const events = await store.listAudit({});
      assert.deepEqual(
        events.map((e) => e.type),
        ['login', 'consent'],
      );
      assert.deepEqual(events[0]?.detail, { ip: '127.0.0.1' });
      assert.equal((await store.listAudit({ after: events[0]?.id ?? 0 })).length, 1);
      await store.appendAuditEvents([
        { at: 3, type: 'token.issued', client_id: 'c1' },
        { at: 4, type: 'token.refreshed', grant_id: 'g1' },
      ]);
      assert.deepEqual(
        (await store.listAudit({ after: events[1]?.id ?? 0 })).map((e) => e.type),
        ['token.issued', 'token.refreshed'],
        'a batch lands whole and in order',
      );
    });

    test('audit counts group events per type, time bucket and gateway fields, inside the period only', async () => {
      const call = (at: number, name: string, outcome: string) => ({
        at,
        type: 'mcp.call',
        detail: { server: 'files', method: 'tools/call', name, outcome, duration_ms: 1 },
      });
      await store.appendAuditEvents([
        { at: 99_999, type: 'token.issued', client_id: 'c1' },
        { at: 100_000, type: 'token.issued', client_id: 'c1' },
        { at: 100_050, type: 'token.issued', client_id: 'c1' },
        { at: 100_100, type: 'token.issued', client_id: 'c1' },
        call(100_001, 'read_file', 'allowed'),
        call(100_002, 'read_file', 'allowed'),
        call(100_003, 'write_file', 'denied'),
        { at: 100_004, type: 'login.failed', detail: { username: 'mallory' } },
        { at: 100_200, type: 'token.issued', client_id: 'c1' },
      ]);
      const counts = await store.countAuditEvents({
        types: ['token.issued', 'mcp.call'],
        from: 100_000,
        to: 100_200,
        bucketSeconds: 100,
      });
      const key = (c: (typeof counts)[number]) =>
        `${c.type} ${c.bucket} ${c.server ?? '-'} ${c.name ?? '-'} ${c.outcome ?? '-'} ${c.count}`;
      assert.deepEqual(counts.map(key).sort(), [
        'mcp.call 100000 files read_file allowed 2',
        'mcp.call 100000 files write_file denied 1',
        'token.issued 100000 - - - 2',
        'token.issued 100100 - - - 1',
      ]);
      assert.deepEqual(
        await store.countAuditEvents({ types: [], from: 0, to: 200_000, bucketSeconds: 10 }),
        [],
      );
    });
  });
}
