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

/** Whether a key signs new tokens at `now`: its activation has come and its retirement has not. */
export function signsAt(key: SigningKeyRecord, now: number): boolean {
  return key.active_from <= now && (key.retired_at === undefined || key.retired_at > now);
}

/**
 * The signing keys: the one that signs now and the set published in the JWKS. Keys live in the
 * store, so every instance signs with and publishes the same keys. `load()` (re)reads them; the
 * key that signs is chosen by the clock at each use, so a rotation planned in the store takes
 * effect at its `active_from` exactly, even between two loads.
 */
export class KeyRing {
  readonly #store: Store;
  readonly #secrets: Secrets;
  readonly #now: () => number;
  #records: SigningKeyRecord[] = [];
  /** Keys that sign now or will later, decrypted once, oldest activation first. */
  #signers: { record: SigningKeyRecord; key: ActiveKey }[] = [];

  constructor(store: Store, secrets: Secrets, now: () => number = () => Math.floor(Date.now() / 1000)) {
    this.#store = store;
    this.#secrets = secrets;
    this.#now = now;
  }

  /**
   * Loads keys from the store, creating the first one on a fresh store. Instances starting at once
   * on one empty store each see no key; the store's conditional save lets only one of them create
   * it, and every instance then reads and signs with that one.
   */
  async load(now: number): Promise<void> {
    let records = await this.#store.listSigningKeys();
    if (!records.some((k) => signsAt(k, now))) {
      const key = await createSigningKey(this.#secrets, now);
      if (this.#store.saveSigningKeyIfNoneSigns) await this.#store.saveSigningKeyIfNoneSigns(key, now);
      else await this.#store.saveSigningKey(key);
      records = await this.#store.listSigningKeys();
    }
    const signers: { record: SigningKeyRecord; key: ActiveKey }[] = [];
    for (const record of records) {
      if (record.retired_at !== undefined && record.retired_at <= now) continue;
      const known = this.#signers.find((s) => s.record.kid === record.kid);
      signers.push({ record, key: known?.key ?? (await this.#decrypt(record)) });
    }
    this.#records = records;
    this.#signers = signers;
  }

  async #decrypt(record: SigningKeyRecord): Promise<ActiveKey> {
    const jwk = JSON.parse(this.#secrets.decrypt(record.private_jwk_encrypted, context(record.kid))) as JWK;
    return { kid: record.kid, alg: record.alg, key: (await importJWK(jwk, record.alg)) as CryptoKey };
  }

  /** The newest key whose activation time has come and that is not retired; newer ones are only published. */
  get active(): ActiveKey {
    const now = this.#now();
    const signer =
      this.#signers.filter((s) => signsAt(s.record, now)).at(-1) ??
      // No reload since the last key retired: keep signing with the newest active one rather than fail.
      this.#signers.filter((s) => s.record.active_from <= now).at(-1) ??
      this.#signers[0];
    if (!signer) throw new Error('KeyRing.load() has not run');
    return signer.key;
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
