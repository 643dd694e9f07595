import { MAX_ACCESS_TOKEN_TTL } from '@gatehouse/core';
import type { Secrets } from '../secrets.ts';
import type { SigningKeyRecord, Store } from '../store/types.ts';
import { createSigningKey, signsAt } from './keys.ts';

/**
 * How long a new key is published before it signs: every instance reloads its keys (every 30 s)
 * and every verifier's cached JWKS (max-age 60 s) has it by then, so no token ever names a key
 * that a verifier has not seen.
 */
export const KEY_PROPAGATION_DELAY = 300;
// The longest access-token lifetime the configuration allows: a retired key stays published this long.
export { MAX_ACCESS_TOKEN_TTL };

export interface RotationResult {
  /** The new key: published now, signing from its `active_from`. */
  created: SigningKeyRecord;
  /** The keys it replaces, with their new `retired_at` and `expires_at`. */
  retired: SigningKeyRecord[];
}

/**
 * Rotates the signing key without breaking a single token: the new key is published at once and
 * signs from `now + propagationDelay`; each key it replaces signs until then and stays published
 * until every token it signed has expired (`retired_at + maxAccessTokenTtl`). On a store with no
 * signing key, the first key signs at once (nobody can have cached anything yet).
 *
 * @example
 * const { created } = await rotateSigningKeys(store, secrets, Math.floor(Date.now() / 1000));
 * @see https://www.rfc-editor.org/rfc/rfc7517#section-5 (JWK Set: publishing several keys)
 */
export async function rotateSigningKeys(
  store: Store,
  secrets: Secrets,
  now: number,
  options: { propagationDelay?: number; maxAccessTokenTtl?: number } = {},
): Promise<RotationResult> {
  const delay = options.propagationDelay ?? KEY_PROPAGATION_DELAY;
  const ttl = options.maxAccessTokenTtl ?? MAX_ACCESS_TOKEN_TTL;
  const existing = await store.listSigningKeys();
  const takeover = existing.length === 0 ? now : now + delay;
  const created = await createSigningKey(secrets, now, takeover);
  // Published first: the new key is in the store (so in every JWKS) before any key is retired.
  await store.saveSigningKey(created);
  const retired: SigningKeyRecord[] = [];
  for (const key of existing) {
    // Keys already retiring earlier keep their dates; the rest (the signing key, or a key from a
    // rotation still pending) hand over to the new key when it takes over.
    if (key.retired_at !== undefined && key.retired_at <= takeover) continue;
    const changes = { retired_at: takeover, expires_at: takeover + ttl };
    await store.updateSigningKey(key.kid, changes);
    retired.push({ ...key, ...changes });
  }
  return { created, retired };
}

export type KeyStatus = 'pending' | 'signing' | 'retiring' | 'expired';

/**
 * Where a key is in its life at `now`: published but not yet signing, signing, retired but still
 * published (verifying tokens it signed), or unpublished.
 */
export function keyStatus(key: SigningKeyRecord, now: number): KeyStatus {
  if (key.expires_at !== undefined && key.expires_at <= now) return 'expired';
  if (key.active_from > now) return 'pending';
  return signsAt(key, now) ? 'signing' : 'retiring';
}
