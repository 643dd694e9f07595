import { randomFillSync } from 'node:crypto';

/**
 * Random bytes drawn from the CSPRNG 4 KiB at a time, as Node's randomUUID does, and handed out
 * once each (spent bytes are wiped). On the token hot path one call per token was not the bytes'
 * cost but the CSPRNG's lock, which the thread pool's signatures (ECDSA draws a nonce each) hold
 * at the same moment.
 */
const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

/** `size` fresh random bytes (at most 256), in a Buffer of their own. */
export function pooledRandomBytes(size: number): Buffer {
  if (size > 256) throw new RangeError('pooledRandomBytes is for small sizes');
  if (offset + size > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.from(pool.subarray(offset, offset + size));
  pool.fill(0, offset, offset + size);
  offset += size;
  return bytes;
}
