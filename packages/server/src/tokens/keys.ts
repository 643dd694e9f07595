import { randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Secrets } from '../secrets.ts';
import type { SigningKeyRecord, Store } from '../store/types.ts';

export const SIGNING_ALG = 'ES256';

export interface ActiveKey {
  kid: string;
  alg: string;
  key: CryptoKey;
}

/** The private JWK is encrypted with the at-rest key, bound to its kid. */
const context = (kid: string) => `signing-key:${kid}`;

/** Creates a signing key record; its private half encrypted. */
export async function createSigningKey(
  secrets: Secrets,
  now: number,
  activeFrom = now,
): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const kid = randomUUID();
  const public_jwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
  const privateJwk = JSON.stringify(await exportJWK(privateKey));
  return {
    kid,
    alg: SIGNING_ALG,
    public_jwk,
    private_jwk_encrypted: secrets.encrypt(privateJwk, context(kid)),
    created_at: now,
    active_from: activeFrom,
  };
}

/**
 * The signing keys: the one that signs now and the set published in the JWKS. Keys live in the
 * store, so every instance signs with and publishes the same keys.
 */
export class KeyRing {
  readonly #store: Store;
  readonly #secrets: Secrets;
  #records: SigningKeyRecord[] = [];
  #active: ActiveKey | undefined;

  constructor(store: Store, secrets: Secrets) {
    this.#store = store;
    this.#secrets = secrets;
  }

  /** Loads keys from the store, creating the first one on a fresh store. */
  async load(now: number): Promise<void> {
    let records = await this.#store.listSigningKeys();
    if (!records.some((k) => k.active_from <= now && k.retired_at === undefined)) {
      await this.#store.saveSigningKey(await createSigningKey(this.#secrets, now));
      records = await this.#store.listSigningKeys();
    }
    this.#records = records;
    // The newest key whose activation time has come signs; newer ones are only published.
    const signing = records.filter((k) => k.active_from <= now && k.retired_at === undefined).at(-1);
    if (signing && signing.kid !== this.#active?.kid) {
      const jwk = JSON.parse(
        this.#secrets.decrypt(signing.private_jwk_encrypted, context(signing.kid)),
      ) as JWK;
      this.#active = {
        kid: signing.kid,
        alg: signing.alg,
        key: (await importJWK(jwk, signing.alg)) as CryptoKey,
      };
    }
  }

  get active(): ActiveKey {
    if (!this.#active) throw new Error('KeyRing.load() has not run');
    return this.#active;
  }

  /** RFC 7517 JWK Set: every key not yet past its publication end. */
  jwks(now: number): { keys: Record<string, unknown>[] } {
    return {
      keys: this.#records
        .filter((k) => k.expires_at === undefined || k.expires_at > now)
        .map((k) => k.public_jwk),
    };
  }
}
