import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, test } from 'node:test';
import { OAuthError } from '@gatehouse/core';
import { fetchJsonDocument, pinnedLookup } from './fetch-document.ts';

let socketsCreated = 0;
const countSocket = () => {
  socketsCreated++;
};
subscribe('net.client.socket', countSocket);
after(() => unsubscribe('net.client.socket', countSocket));

const base = {
  resolve: async () => [{ address: '127.0.0.1', family: 4 as const }],
  dangerouslyAllowPrivateNetworks: true,
  maxBytes: 1024,
  timeoutMs: 200,
};

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof OAuthError);
    assert.equal(err.code, 'invalid_client');
    return err.message;
  }
  assert.fail('the fetch succeeded');
}

test('RFC 9700 §2.5 / MCP SSRF: only https URLs are fetched unless plain http is opted into', async () => {
  const before = socketsCreated;
  assert.match(await reason(fetchJsonDocument(new URL('http://keys.localhost:1/jwks.json'), base)), /https/);
  assert.match(await reason(fetchJsonDocument(new URL('file:///etc/passwd'), base)), /https/);
  assert.match(
    await reason(fetchJsonDocument(new URL('https://u:p@keys.localhost/jwks.json'), base)),
    /credentials/,
  );
  assert.equal(socketsCreated, before);
});

test('CIMD §6.5: refusals name the document the caller fetches, not the network', async () => {
  const message = await reason(
    fetchJsonDocument(new URL('https://10.0.0.1/jwks.json'), {
      ...base,
      dangerouslyAllowPrivateNetworks: false,
      documentName: 'client key set',
    }),
  );
  assert.equal(message, 'The client key set URL resolves to an address that is not publicly routable.');
});

test('CIMD §6.5: the pinned lookup answers only with vetted addresses, for one or all, by family', () => {
  const lookup = pinnedLookup([
    { address: '93.184.215.14', family: 4 },
    { address: '2606:4700::1', family: 6 },
  ]);
  const answers: unknown[] = [];
  lookup('evil.example', { all: true }, (err, address) => answers.push([err, address]));
  lookup('evil.example', { family: 6 }, (err, address, family) => answers.push([err, address, family]));
  lookup('evil.example', {}, (err, address, family) => answers.push([err, address, family]));
  assert.deepEqual(answers, [
    [
      null,
      [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:4700::1', family: 6 },
      ],
    ],
    [null, '2606:4700::1', 6],
    [null, '93.184.215.14', 4],
  ]);
  pinnedLookup([{ address: '93.184.215.14', family: 4 }])('x', { family: 6 }, (err) => {
    assert.equal(err?.code, 'ENOTFOUND');
  });
});
