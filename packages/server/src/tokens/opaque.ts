import { crc32 } from 'node:zlib';
import { pooledRandomBytes } from './random.ts';

/**
 * Opaque secrets with a recognisable prefix and a checksum, so that secret scanners can find a
 * leaked one and reject look-alikes without asking us: `<prefix><43 random chars>_<crc32 base36>`.
 */
export const REFRESH_TOKEN_PREFIX = 'gatehouse_rt_';
export const CLIENT_SECRET_PREFIX = 'gatehouse_cs_';

function checksum(body: string): string {
  return crc32(body).toString(36).padStart(7, '0');
}

export function createOpaqueToken(prefix: string): string {
  const body = `${prefix}${pooledRandomBytes(32).toString('base64url')}`;
  return `${body}_${checksum(body)}`;
}

/** A cheap syntactic check before any store lookup: right prefix, right shape, checksum matches. */
export function isWellFormedOpaqueToken(prefix: string, token: string): boolean {
  if (!token.startsWith(prefix) || token.length !== prefix.length + 43 + 8) return false;
  const body = token.slice(0, -8);
  return token[token.length - 8] === '_' && token.slice(-7) === checksum(body);
}
