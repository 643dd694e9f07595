import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type AuthorizationServerConfig, resolveConfig } from './config.ts';
import { SqliteStore } from './store/sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
const store = new SqliteStore(join(dir, 'gatehouse.db'));
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const masterSecret = randomBytes(32).toString('base64url');
const resolve = (overrides: Partial<AuthorizationServerConfig>) =>
  resolveConfig({ issuer: 'https://auth.example.com', store, masterSecret, ...overrides });

describe('resolveConfig', () => {
  test('RFC 8414 §3.1: an issuer with a path is refused at start, saying to serve Gatehouse at the root of its own host name', () => {
    for (const issuer of [
      'https://example.com/auth',
      'https://example.com/tenants/a',
      'http://127.0.0.1:8080/as',
    ]) {
      assert.throws(
        () => resolve({ issuer }),
        (err: Error) =>
          err.message.includes(issuer) &&
          /has a path/.test(err.message) &&
          /root of its own host name/.test(err.message),
        issuer,
      );
    }
    assert.equal(resolve({ issuer: 'https://auth.example.com' }).issuer, 'https://auth.example.com');
  });

  test('RFC 8414 §2: the issuer has no query, fragment or trailing slash', () => {
    for (const issuer of [
      'https://auth.example.com/',
      'https://auth.example.com?a=1',
      'https://auth.example.com#x',
    ]) {
      assert.throws(() => resolve({ issuer }), /no query, fragment or trailing slash/, issuer);
    }
  });

  test('OAuth 2.1 §1.5: http is accepted only for a loopback issuer', () => {
    for (const issuer of ['http://localhost:8080', 'http://127.0.0.1:8080', 'http://[::1]:8080']) {
      assert.equal(resolve({ issuer }).secureCookies, false, issuer);
    }
    assert.throws(() => resolve({ issuer: 'http://auth.example.com' }), /must use https/);
    assert.equal(resolve({}).secureCookies, true);
  });

  test('Secrets: the resolved config never holds the master secret, so nothing that prints it can leak it', () => {
    const config = resolve({});
    assert.equal('masterSecret' in config, false);
    assert.equal(JSON.stringify(config).includes(masterSecret), false);
  });

  test('onError is passed through for the HTTP layer; left out, the layer uses its default', () => {
    const onError = () => {};
    assert.equal(resolve({ onError }).onError, onError);
    assert.equal(resolve({}).onError, undefined);
  });
});
