import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPkcePair } from '@gatehouse/core';
import { formActionSource } from '../src/interaction/pages.ts';
import { type Harness, startAuthorizationServer } from './harness.ts';

/**
 * The consent form's answer is a redirect to the client, which browsers check against the page's
 * CSP `form-action`: the client's redirect URI must be allowed there, or approving does nothing.
 */
let as: Harness;
let user: { username: string; password: string };

before(async () => {
  as = await startAuthorizationServer();
  user = await as.addUser();
});
after(() => as.close());

/** Signs in as a browser would and returns the consent page's response for `redirect_uri`. */
async function consentPageFor(redirect_uri: string): Promise<Response> {
  const client = await as.addClient({ redirect_uris: [redirect_uri] });
  const cookies = new Map<string, string>();
  const send = async (path: string, form?: Record<string, string>) => {
    const headers = new Headers({ cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') });
    if (form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      headers.set('origin', as.issuer);
    }
    const response = await fetch(new URL(path, as.issuer), {
      method: form ? 'POST' : 'GET',
      headers,
      body: form && new URLSearchParams(form),
      redirect: 'manual',
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [name, value] = (cookie.split(';')[0] as string).split('=') as [string, string];
      cookies.set(name, value);
    }
    return response;
  };
  const url = new URL('/oauth/authorize', as.issuer);
  const params = {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri,
    code_challenge: createPkcePair().code_challenge,
    code_challenge_method: 'S256',
    state: 'st',
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const interaction = (await send(url.href)).headers.get('location') as string;
  assert.match(interaction, /^\/interaction\//);
  const login = await (await send(interaction)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(login)?.[1] as string;
  const signedIn = await send(`${interaction}/login`, { csrf, ...user });
  assert.equal(signedIn.status, 303);
  const consent = await send(interaction);
  assert.equal(consent.status, 200);
  return consent;
}

const formAction = (response: Response) =>
  /(?:^|; )form-action ([^;]*)/.exec(response.headers.get('content-security-policy') ?? '')?.[1];

describe('consent page Content-Security-Policy', () => {
  test("RFC 8252 §7.1: a private-use-scheme redirect is allowed as the scheme-source, never as 'null'", async () => {
    const response = await consentPageFor('com.example.app:/oauth/callback');
    assert.equal(formAction(response), "'self' com.example.app:");
    // The page names where the user is sent: the app's scheme, as it has no host.
    assert.match(await response.text(), /class="redirect-host">com\.example\.app:</);
  });

  test('RFC 6749 §3.1.2: an https redirect is allowed as its origin only', async () => {
    const response = await consentPageFor('https://app.example/oauth/callback?x=1');
    assert.equal(formAction(response), "'self' https://app.example");
    await response.body?.cancel();
  });

  test('RFC 8252 §7.3: a loopback http redirect is allowed as its origin, with the port the request used', async () => {
    const response = await consentPageFor('http://127.0.0.1:53211/callback');
    assert.equal(formAction(response), "'self' http://127.0.0.1:53211");
    await response.body?.cancel();
  });

  test('CSP3 §2.3.1: formActionSource gives an origin for http(s) and a scheme-source otherwise', () => {
    assert.equal(formActionSource('https://app.example:8443/cb'), 'https://app.example:8443');
    assert.equal(formActionSource('http://[::1]:9/cb'), 'http://[::1]:9');
    assert.equal(formActionSource('com.example.app:/cb'), 'com.example.app:');
    assert.equal(formActionSource('com.example.app://cb/path'), 'com.example.app:');
  });
});
