import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pooledRandomBytes } from './tokens/random.ts';

/**
 * The master secret and what derives from it: the HMAC key under which codes, refresh tokens and
 * client secrets are stored, and the AES-256-GCM key that encrypts signing keys at rest.
 */
export interface Secrets {
  /** HMAC-SHA256 of a secret value, base64url: what the store keeps instead of the value. */
  hash(value: string): string;
  /** Encrypts with AES-256-GCM; `context` is bound as additional data so ciphertexts can't be swapped. */
  encrypt(plaintext: string, context: string): string;
  decrypt(ciphertext: string, context: string): string;
  /** An HMAC under a purpose-specific key, for CSRF tokens and the like. */
  mac(purpose: string, value: string): string;
}

const KEY_FILE = 'secret.key';
const MIN_SECRET_LENGTH = 32;

/**
 * Loads the master secret from `GATEHOUSE_SECRET`, or from `<dataDir>/secret.key`, generating that
 * file (mode 0600) on first start.
 */
export function loadMasterSecret(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.GATEHOUSE_SECRET;
  if (fromEnv !== undefined) {
    if (fromEnv.length < MIN_SECRET_LENGTH) {
      throw new Error(
        `GATEHOUSE_SECRET is too short (${fromEnv.length} characters); use at least ${MIN_SECRET_LENGTH}, e.g. the output of: openssl rand -base64 32`,
      );
    }
    return fromEnv;
  }
  const path = join(dataDir, KEY_FILE);
  if (!existsSync(path)) {
    // Several processes may start on a fresh folder at once: each writes its own temporary file
    // and links it into place; the first link wins, and nobody ever reads a half-written key.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(temporary, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temporary, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(temporary);
    }
  }
  chmodSync(path, 0o600);
  return readFileSync(path, 'utf8').trim();
}

/**
 * A derived key as a KeyObject: keying createHmac/createCipheriv with a raw Buffer costs Node a
 * failed KeyObject check (a throw and catch) on every call, a third of a token request's budget.
 */
function derive(master: string, info: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', master, 'gatehouse', info, 32)));
}

export function createSecrets(master: string): Secrets {
  const hmacKey = derive(master, 'store-hmac');
  const encKey = derive(master, 'at-rest-aes-256-gcm');
  const macKeys = new Map<string, KeyObject>();
  return {
    hash: (value) => createHmac('sha256', hmacKey).update(value).digest('base64url'),
    mac(purpose, value) {
      let key = macKeys.get(purpose);
      if (!key) {
        key = derive(master, `mac:${purpose}`);
        macKeys.set(purpose, key);
      }
      return createHmac('sha256', key).update(value).digest('base64url');
    },
    encrypt(plaintext, context) {
      const iv = pooledRandomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', encKey, iv).setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, body, cipher.getAuthTag()]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    decrypt(ciphertext, context) {
      const [version, iv, body, tag] = ciphertext.split('.');
      if (version !== 'v1' || !iv || body === undefined || !tag) throw new Error('unrecognised ciphertext');
      const decipher = createDecipheriv('aes-256-gcm', encKey, Buffer.from(iv, 'base64url'))
        .setAAD(Buffer.from(context))
        .setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}
