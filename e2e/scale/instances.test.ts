/**
 * Three `gatehouse serve` processes on one PostgreSQL schema under a mixed load: what a
 * deployment behind a load balancer must guarantee.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { withTestDatabase } from '../../packages/store-postgres/src/testing.ts';
import { Agent, csrfOf } from '../helpers/agent.ts';
import { chainViolations, type Deployment, deploy, REDIRECT_URI, USERS } from './setup.ts';
import { Traffic } from './traffic.ts';
import { Workload } from './workload.ts';

const SECONDS = Number(process.env.GATEHOUSE_SCALE_SECONDS ?? 10);

await withTestDatabase((db) => {
  let d: Deployment;
  before(async () => {
    d = await deploy(db, 3);
  });
  after(() => d?.stop());

  test('instances started at once on an empty store share one signing key and publish the same JWKS', async () => {
    const jwks = await Promise.all(
      d.cluster.instances.map(async (i) => (await fetch(`${i.url}/.well-known/jwks.json`)).json()),
    );
    const keys = (await db.admin.query(`SELECT kid FROM ${d.schema}.signing_keys`)).rows;
    assert.equal(keys.length, 1, 'one first key, not one per instance');
    for (const j of jwks) assert.deepEqual(j, jwks[0]);
    // The issuer URL (the round-robin proxy) answers like any instance.
    const metadata = (await (
      await fetch(`${d.cluster.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as {
      issuer: string;
    };
    assert.equal(metadata.issuer, d.cluster.issuer);
  });

  test('the sign-in rate limit counted on one instance holds on the others (the count lives in the store)', async () => {
    const traffic = new Traffic(d.cluster.instances.map((i) => i.url));
    const target = USERS[2] as { username: string; password: string };
    // An interaction to sign in to, started on instance 0.
    const agent = new Agent();
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: d.clientId,
      redirect_uri: REDIRECT_URI,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 's',
    });
    const start = await traffic.send(`/oauth/authorize?${query}`, {}, { on: 0, agent });
    const interaction = start.response.headers.get('location') as string;
    const signIn = async (on: number, password: string) => {
      const page = await (await traffic.send(interaction, {}, { on, agent })).response.text();
      const { response } = await traffic.send(
        `${interaction}/login`,
        { method: 'POST', form: { csrf: csrfOf(page), username: target.username, password } },
        { on, agent },
      );
      return response.status;
    };
    // The default limit: 10 failures per user in 15 minutes, all of them on instance 0.
    for (let i = 0; i < 10; i++) assert.equal(await signIn(0, 'wrong-password'), 401);
    assert.equal(await signIn(1, target.password), 429, 'instance 1 refuses even the right password');
    assert.equal(await signIn(2, target.password), 429, 'and so does instance 2');
  });

  test(`mixed load on three instances for ${SECONDS} s: no 5xx, one successor per refresh token, revocations refused everywhere within a second`, {
    timeout: (SECONDS + 90) * 1000,
  }, async () => {
    const traffic = new Traffic(d.cluster.instances.map((i) => i.url));
    const load = new Workload(traffic, {
      issuer: d.cluster.issuer,
      clientId: d.clientId,
      redirectUri: REDIRECT_URI,
      users: USERS.slice(0, 2),
      introspector: d.introspector,
    });
    await load.run(6, SECONDS);

    const summary = JSON.stringify({
      ...load.counts,
      revocations: load.revocations.length,
      statuses: [...traffic.statuses],
    });
    assert.deepEqual(load.errors, [], summary);
    assert.deepEqual(traffic.serverErrors, [], summary);
    assert.equal(traffic.connectionErrors, 0);
    assert.ok(load.counts.flows >= 6 && load.counts.parallelRefreshes >= 3, `load too light: ${summary}`);
    assert.ok(
      load.revocations.some((r) => r.kind === 'access_token'),
      summary,
    );
    assert.ok(
      load.revocations.some((r) => r.kind === 'refresh_token'),
      summary,
    );

    for (const r of load.revocations) {
      assert.deepEqual(r.failures, [], `revocation of family ${r.family}'s ${r.kind}`);
      assert.ok(r.propagatedMs !== undefined && r.propagatedMs <= 1000);
    }
    assert.deepEqual(await chainViolations(db, d.schema), []);

    // Afterwards: what clients hold is honoured everywhere, what they revoked is refused everywhere.
    await Promise.all(
      load.families.flatMap((family) =>
        [0, 1, 2].map(async (on) => {
          if (family.revoked) {
            assert.equal(
              await load.isRefused(family.access, on),
              true,
              `revoked family ${family.id} on ${on}`,
            );
            assert.equal((await load.introspect(family.refresh, on)).active, false);
          } else {
            assert.equal(
              (await load.introspect(family.refresh, on)).active,
              true,
              `family ${family.id} on ${on}`,
            );
            if (family.accessTokens.includes(family.access)) {
              assert.equal(await load.isAccepted(family.access, on), true, `family ${family.id} on ${on}`);
            }
          }
        }),
      ),
    );
    const worst = Math.max(...load.revocations.map((r) => r.propagatedMs ?? Infinity));
    console.log(`scale: ${summary}; slowest revocation reached every instance in ${worst} ms`);
    await Promise.all(
      load.revocations
        .filter((x) => x.kind === 'access_token')
        .flatMap((r) => [0, 1, 2].map(async (on) => assert.equal(await load.isRefused(r.access, on), true))),
    );
  });
});
