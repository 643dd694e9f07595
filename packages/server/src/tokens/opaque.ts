import { randomFillSync } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Opaque secrets with a recognisable prefix and a checksum, so that secret scanners can find a
 * leaked one and reject look-alikes without asking us: `<prefix><43 random chars>_<crc32 base36>`.
 */
export const REFRESH_TOKEN_PREFIX = 'gatehouse_rt_';
export const CLIENT_SECRET_PREFIX = 'gatehouse_cs_';

function checksum(body: string): string {
  return crc32(body).toString(36).padStart(7, '0');
}

/**
 * Random bytes drawn 4 KiB at a time (as Node's randomUUID does): one call into the CSPRNG per
 * 128 tokens instead of one per token. Every byte is handed out once.
 */
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

function random32(): string {
  if (poolOffset + 32 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const text = pool.toString('base64url', poolOffset, poolOffset + 32);
  // Spent bytes are wiped, so the pool never holds a token already handed out.
  pool.fill(0, poolOffset, poolOffset + 32);
  poolOffset += 32;
  return text;
}

export function createOpaqueToken(prefix: string): string {
  const body = `${prefix}${random32()}`;
  return `${body}_${checksum(body)}`;
}

/** A cheap syntactic check before any store lookup: right prefix, right shape, checksum matches. */
export function isWellFormedOpaqueToken(prefix: string, token: string): boolean {
  if (!token.startsWith(prefix) || token.length !== prefix.length + 43 + 8) return false;
  const body = token.slice(0, -8);
  return token[token.length - 8] === '_' && token.slice(-7) === checksum(body);
}
