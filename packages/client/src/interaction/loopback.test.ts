import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loopbackInteraction } from './loopback.ts';

test('RFC 8252 §7.3: the loopback listener takes only the response carrying the request state, then closes', async () => {
  const statuses: number[] = [];
  const interaction = loopbackInteraction({
    print: () => {},
    // Stands in for the browser: a stray request first, then the real redirect.
    open: async (url) => {
      const redirect = new URL(url).searchParams.get('redirect_uri') as string;
      for (const state of ['other', 'expected']) {
        const res = await fetch(`${redirect}?code=c&state=${state}`);
        statuses.push(res.status);
        await res.text();
      }
      return true;
    },
  });
  const pending = await interaction.begin();
  assert.match(pending.redirectUri, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  const authorization = new URL('http://127.0.0.1:1/authorize');
  authorization.searchParams.set('redirect_uri', pending.redirectUri);
  authorization.searchParams.set('state', 'expected');
  const back = await pending.complete(authorization);
  assert.deepEqual(statuses, [400, 200]);
  assert.equal(back.searchParams.get('state'), 'expected');
  await pending.close();
  await assert.rejects(fetch(pending.redirectUri));
});
