import { revocationExpiryForGrant, ScopeCatalogue } from '@gatehouse/core';
import { AuditLog } from './audit-log.ts';
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
  /** Records an audit event; written behind the request (see AuditLog). Never holds token values. */
  audit(event: Omit<AuditEvent, 'at'>): void;
  /** Writes queued audit events now. */
  flushAudit(): Promise<void>;
  /** Revokes a grant everywhere: store, this process at once, other processes via the feed. */
  revokeGrant(grantId: string, reason: string, actor?: string): Promise<void>;
}

export function createContext(
  config: ResolvedConfig,
  parts: Pick<Context, 'store' | 'secrets' | 'keys' | 'revocations' | 'clients'>,
): Context {
  const cookies = createCookieJar(config.secureCookies);
  const auditLog = new AuditLog(parts.store);
  const context: Context = {
    ...parts,
    config,
    catalogue: new ScopeCatalogue(config.scopes),
    cookies,
    csrf: new Csrf(parts.secrets, cookies),
    issuerOrigin: new URL(config.issuer).origin,
    now: config.now,
    audit: (event) => auditLog.append({ ...event, at: config.now() }),
    flushAudit: () => auditLog.flush(),
    async revokeGrant(grantId, reason, actor) {
      const now = config.now();
      // Every access token of the grant expires within one access-token lifetime from now.
      if (await parts.store.revokeGrant(grantId, now, revocationExpiryForGrant(now))) {
        await parts.revocations.sync();
        // Whose grant and which client's: the audit trail answers "what happened to alice's access".
        const grant = await parts.store.getGrant(grantId);
        context.audit({
          type: 'grant.revoked',
          grant_id: grantId,
          ...(grant ? { user_id: grant.subject, client_id: grant.client_id } : {}),
          actor,
          detail: { reason },
        });
      }
    },
  };
  return context;
}
