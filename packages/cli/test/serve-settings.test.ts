import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfig } from '@gatehouse/gateway';
import { resolveServeSettings } from '../src/serve/settings.ts';

const config = parseConfig(
  {
    port: 9000,
    host: '0.0.0.0',
    data: '/srv/gatehouse',
    issuer: 'https://auth.example.com',
    trustProxy: true,
    tokens: { accessTokenTtl: '30m', refreshTokenTtl: '7d' },
    rateLimits: { loginAttemptsPer15Minutes: 5 },
    registration: { enabled: false },
    clientIdMetadataDocuments: { enabled: false },
    consent: { required: ['tools:list'] },
  },
  { file: 'gatehouse.json', env: {} },
);

describe('gatehouse serve settings', () => {
  test('Configuration: the file sets what the library can; absent keys are left to the server defaults', () => {
    const settings = resolveServeSettings({}, {}, config, 'usage');
    assert.deepEqual(
      { ...settings, authorizationServer: { ...settings.authorizationServer } },
      {
        port: 9000,
        host: '0.0.0.0',
        data: '/srv/gatehouse',
        issuer: 'https://auth.example.com',
        store: undefined,
        trustProxy: true,
        authorizationServer: {
          accessTokenTtl: 1800,
          refreshTokenTtl: 604_800,
          loginAttemptsPer15Minutes: 5,
          registration: { enabled: false },
          clientIdMetadataDocuments: { enabled: false },
          consent: { required: ['tools:list'] },
        },
      },
    );
    const bare = resolveServeSettings({}, {}, undefined, 'usage');
    assert.deepEqual(bare.authorizationServer, {});
    assert.equal(bare.port, 8080);
    assert.equal(bare.data, '.gatehouse');
  });

  test('Configuration: a flag wins over its environment variable, which wins over the file', () => {
    const env = { PORT: '7000', GATEHOUSE_DATA: '/env/data', GATEHOUSE_ISSUER: 'https://env.example.com' };
    const fromEnv = resolveServeSettings({}, env, config, 'usage');
    assert.deepEqual(
      [fromEnv.port, fromEnv.data, fromEnv.issuer],
      [7000, '/env/data', 'https://env.example.com'],
    );
    const fromFlags = resolveServeSettings(
      {
        port: '6000',
        data: '/flag/data',
        issuer: 'https://flag.example.com',
        'access-token-ttl': '15m',
        'refresh-token-idle-ttl': '1d',
      },
      env,
      config,
      'usage',
    );
    assert.deepEqual(
      [fromFlags.port, fromFlags.data, fromFlags.issuer, fromFlags.authorizationServer.accessTokenTtl],
      [6000, '/flag/data', 'https://flag.example.com', 900],
    );
    assert.equal(fromFlags.authorizationServer.refreshTokenIdleTtl, 86_400);
    // An empty variable is "not set", as shells often export empty variables.
    assert.equal(resolveServeSettings({}, { PORT: '' }, config, 'usage').port, 9000);
  });

  test('Configuration: --access-token-ttl outside 15 min–1 h is refused with the allowed range', () => {
    assert.throws(() => resolveServeSettings({ 'access-token-ttl': '10m' }, {}, undefined, 'usage'), {
      message:
        '--access-token-ttl: expected an access-token lifetime from 15m to 1h (900–3600 seconds), got 600 seconds',
    });
    assert.throws(() => resolveServeSettings({ 'refresh-token-ttl': '1w' }, {}, undefined, 'usage'), {
      message: '--refresh-token-ttl: expected a duration such as 15m, 1h or 30d (or whole seconds)',
    });
  });
});
