import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { auditedCall, callEvent, canonicalJson, ephemeralMac } from './audit.ts';

test('RFC 8785: canonical JSON sorts members, drops whitespace, keeps ECMAScript number and string forms', () => {
  assert.equal(
    canonicalJson({ b: [1, 'x', null], a: { d: 1e21, c: 0.1 } }),
    '{"a":{"c":0.1,"d":1e+21},"b":[1,"x",null]}',
  );
  assert.equal(canonicalJson({ '\u00e9': 1, z: 2, '\u20ac': 3 }), '{"z":2,"\u00e9":1,"\u20ac":3}');
  assert.equal(canonicalJson({ b: 2, a: 1 }), canonicalJson({ a: 1, b: 2 }));
});

test('audit: tools/call, resources/read and prompts/get are recorded with what they name; other methods are not', () => {
  assert.deepEqual(auditedCall({ method: 'tools/call', params: { name: 'q', arguments: { sql: 'x' } } }), {
    method: 'tools/call',
    name: 'q',
    arguments: { sql: 'x' },
  });
  assert.deepEqual(auditedCall({ method: 'resources/read', params: { uri: 'a://b' } }), {
    method: 'resources/read',
    name: 'a://b',
  });
  assert.equal(auditedCall({ method: 'tools/list', params: {} }), undefined);
  assert.equal(auditedCall({ method: 'constructor', params: {} }), undefined);
});

test('audit: argument values never reach the event; with hashing only their SHA-256 does', () => {
  const call = { method: 'tools/call', name: 'q', arguments: { password: 'hunter2' } };
  const base = {
    server: 's',
    call,
    outcome: 'allowed' as const,
    durationMs: 3.4,
    userId: 'u',
    clientId: 'c',
  };
  const plain = callEvent({ ...base });
  assert.deepEqual(plain, {
    type: 'mcp.call',
    user_id: 'u',
    client_id: 'c',
    detail: { server: 's', method: 'tools/call', name: 'q', outcome: 'allowed', duration_ms: 3 },
  });
  const keyed = ephemeralMac();
  const mac = (canonical: string) => keyed('audit-arguments', canonical);
  const hashed = callEvent({ ...base, argumentsMac: mac });
  assert.equal(hashed.detail.arguments_hmac, mac('{"password":"hunter2"}'));
  assert.doesNotMatch(JSON.stringify([plain, hashed]), /hunter2/);
  // Keyed: without the key, hashing a guess does not find the value again.
  assert.notEqual(
    hashed.detail.arguments_hmac,
    createHash('sha256').update('{"password":"hunter2"}').digest('base64url'),
  );
  assert.notEqual(
    hashed.detail.arguments_hmac,
    ephemeralMac()('audit-arguments', '{"password":"hunter2"}'),
    'another key, another hash',
  );
});
