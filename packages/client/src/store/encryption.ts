import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { base64url, base64urlDecode } from '@gatehouse/core';
import { ClientError } from '../errors.ts';

/** Binds ciphertexts to their purpose, so a blob cannot be replayed into another context. */
const AAD = Buffer.from('gatehouse-client-store/v1');

/** The encrypted envelope written to disk. */
export interface Sealed {
  v: 1;
  iv: string;
  tag: string;
  ct: string;
}

/** AES-256-GCM with a fresh 96-bit IV per write (NIST SP 800-38D §8.2.2). */
export function seal(key: Uint8Array, plaintext: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(AAD);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { v: 1, iv: base64url(iv), tag: base64url(cipher.getAuthTag()), ct: base64url(ct) };
}

export function open_(key: Uint8Array, sealed: Sealed): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, base64urlDecode(sealed.iv));
    decipher.setAAD(AAD);
    decipher.setAuthTag(base64urlDecode(sealed.tag));
    return Buffer.concat([decipher.update(base64urlDecode(sealed.ct)), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new ClientError('store_unavailable', 'the token store cannot be decrypted with this key', {
      cause,
    });
  }
}

/** Parses a 32-byte key written as base64url (43 characters) or standard base64. */
export function parseKey(text: string): Uint8Array {
  const trimmed = text.trim();
  const bytes = Buffer.from(trimmed.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  if (bytes.length !== 32) {
    throw new ClientError('store_unavailable', 'the token store key must be 32 bytes, base64url-encoded');
  }
  return new Uint8Array(bytes);
}

/**
 * Loads the key from `path`, creating it (32 random bytes, mode 0600) when absent. A key file that
 * others can read is refused: it would make the encryption pointless.
 */
export async function loadOrCreateKeyFile(path: string): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new ClientError(
        'store_unavailable',
        `key file ${path} must not be readable by others (chmod 600)`,
      );
    }
    return parseKey(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    const handle = await open(path, 'wx', 0o600);
    await handle.writeFile(`${base64url(key)}\n`);
    await handle.close();
    await chmod(path, 0o600);
    return new Uint8Array(key);
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return parseKey(await readFile(path, 'utf8'));
    throw err;
  }
}
