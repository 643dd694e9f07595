/**
 * One of three instances dies (SIGKILL) under load: clients carry on with the others, and nothing
 * the survivors' shared store committed is lost.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { withTestDatabase } from '../../packages/store-postgres/src/testing.ts';
import { chainViolations, type Deployment, deploy, REDIRECT_URI, USERS } from './setup.ts';
import { Traffic } from './traffic.ts';
import { Workload } from './workload.ts';

const SECONDS = Number(process.env.GATEHOUSE_SCALE_SECONDS ?? 10);
const VICTIM = 1;

await withTestDatabase((db) => {
  let d: Deployment;
  before(async () => {
    d = await deploy(db, 3);
  });
  after(() => d?.stop());

  test('an instance killed with SIGKILL under load: clients finish on the others, every token received stays usable, every acknowledged revocation stays in force', {
    timeout: (SECONDS + 90) * 1000,
  }, async () => {
    const traffic = new Traffic(d.cluster.instances.map((i) => i.url));
    const load = new Workload(traffic, {
      issuer: d.cluster.issuer,
      clientId: d.clientId,
      redirectUri: REDIRECT_URI,
      users: USERS,
      introspector: d.introspector,
      failover: true,
    });
    let killedAt = 0;
    await load.run(6, SECONDS, async () => {
      // Kill in the middle of the load, with requests in flight on the victim.
      await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 3));
      await d.cluster.instances[VICTIM]?.kill();
      killedAt = Date.now();
    });
    assert.ok(killedAt > 0);
    const survivors = [0, 1, 2].filter((i) => i !== VICTIM);
    const summary = JSON.stringify({
      ...load.counts,
      revocations: load.revocations.length,
      connectionErrors: traffic.connectionErrors,
      statuses: [...traffic.statuses],
    });
    console.log(`crash: ${summary}`);

    assert.ok(traffic.down.has(VICTIM), `clients noticed the dead instance: ${summary}`);
    assert.ok(traffic.connectionErrors >= 1, summary);
    assert.deepEqual(load.errors, [], summary);
    assert.deepEqual(traffic.serverErrors, [], summary);
    assert.ok(
      load.families.length >= 6 && load.revocations.length >= 2,
      `load too light to mean anything: ${summary}`,
    );
    for (const r of load.revocations) assert.deepEqual(r.failures, [], `family ${r.family} ${r.kind}`);
    assert.deepEqual(await chainViolations(db, d.schema), []);

    // Every acknowledged revocation is in force on every survivor.
    await Promise.all(
      load.revocations.flatMap((r) =>
        survivors.map(async (on) => {
          assert.equal(await load.isRefused(r.access, on), true, `family ${r.family}'s ${r.kind} on ${on}`);
          if (r.refresh) assert.equal((await load.introspect(r.refresh, on)).active, false);
        }),
      ),
    );
    // Every token a client received and did not revoke is still good: access tokens introspect as
    // active, and the refresh token a client holds still refreshes, even if its last rotation was
    // committed by the dead instance whose answer never arrived (the retry window returns it).
    const live = load.families.filter((f) => !f.revoked && !f.inDoubt);
    const errorsBefore = load.errors.length;
    await Promise.all(
      live.map(async (family) => {
        for (const token of family.accessTokens) {
          assert.equal(
            (await load.introspect(token, survivors[0] as number)).active,
            true,
            `family ${family.id}`,
          );
        }
        await load.refresh(family);
        for (const on of survivors) assert.equal(await load.isAccepted(family.access, on), true);
      }),
    );
    assert.deepEqual(load.errors.slice(errorsBefore), [], 'final refreshes');
    assert.deepEqual(await chainViolations(db, d.schema), []);
    assert.deepEqual(traffic.serverErrors, []);
  });
});
