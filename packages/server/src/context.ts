import { ScopeCatalogue } from '@gatehouse/core';
import type { ClientRegistry } from './clients/registry.ts';
import type { ResolvedConfig } from './config.ts';
import { type CookieJar, Csrf, createCookieJar } from './interaction/cookies.ts';
import type { Secrets } from './secrets.ts';
import type { AuditEvent, Store } from './store/types.ts';
import type { KeyRing } from './tokens/keys.ts';
import type { RevocationList } from './tokens/revocation-list.ts';

/** Everything an endpoint needs, built once per server. */
export interface Context {
  config: ResolvedConfig;
  store: Store;
  secrets: Secrets;
  keys: KeyRing;
  revocations: RevocationList;
  clients: ClientRegistry;
  catalogue: ScopeCatalogue;
  cookies: CookieJar;
  csrf: Csrf;
  issuerOrigin: string;
  now(): number;
  audit(event: Omit<AuditEvent, 'at'>): Promise<void>;
  /** Revokes a grant everywhere: store, this process at once, other processes via the feed. */
  revokeGrant(grantId: string, reason: string, actor?: string): Promise<void>;
}

export function createContext(
  config: ResolvedConfig,
  parts: Pick<Context, 'store' | 'secrets' | 'keys' | 'revocations' | 'clients'>,
): Context {
  const cookies = createCookieJar(config.secureCookies);
  const context: Context = {
    ...parts,
    config,
    catalogue: new ScopeCatalogue(config.scopes),
    cookies,
    csrf: new Csrf(parts.secrets, cookies),
    issuerOrigin: new URL(config.issuer).origin,
    now: config.now,
    audit: (event) => parts.store.appendAudit({ ...event, at: config.now() }),
    async revokeGrant(grantId, reason, actor) {
      const now = config.now();
      // Every access token of the grant expires within one access-token lifetime from now.
      if (await parts.store.revokeGrant(grantId, now, now + config.accessTokenTtl)) {
        await parts.revocations.sync();
        await context.audit({ type: 'grant.revoked', grant_id: grantId, actor, detail: { reason } });
      }
    },
  };
  return context;
}
