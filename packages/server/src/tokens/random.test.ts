import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pooledRandomBytes } from './random.ts';

test('pooled random bytes: the sizes asked for, never the same bytes twice, across refills of the pool', () => {
  const seen = new Set<string>();
  // 12 × 1000 bytes is about three 4 KiB pools.
  for (let i = 0; i < 1000; i++) {
    const bytes = pooledRandomBytes(12);
    assert.equal(bytes.length, 12);
    seen.add(bytes.toString('hex'));
  }
  assert.equal(seen.size, 1000);
  const a = pooledRandomBytes(32);
  const copy = Buffer.from(a);
  pooledRandomBytes(32);
  assert.deepEqual(a, copy, 'a result is its own buffer, untouched by later draws');
  assert.throws(() => pooledRandomBytes(1024), RangeError);
});
