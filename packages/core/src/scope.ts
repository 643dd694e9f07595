/**
 * Scope algebra: parsing (RFC 6749 §3.3), the hierarchy (`tools:execute` covers
 * `tools:execute:filesystem`) and the catalogue of human-readable sentences for consent.
 */

import { OAuthError } from './errors.ts';

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Splits a space-delimited scope string into a de-duplicated, order-preserving list.
 * @throws OAuthError `invalid_scope` for a token outside the RFC 6749 §3.3 alphabet.
 */
export function parseScope(scope: string | null | undefined): string[] {
  if (!scope) return [];
  const out: string[] = [];
  for (const token of scope.split(' ')) {
    if (token === '') continue;
    if (!SCOPE_TOKEN.test(token)) throw new OAuthError('invalid_scope', 'The scope parameter is malformed.');
    if (!out.includes(token)) out.push(token);
  }
  return out;
}

export function formatScope(scopes: Iterable<string>): string {
  return [...new Set(scopes)].join(' ');
}

/** True when `held` covers `needed`: equal, or an ancestor along `:` segments. */
export function scopeCovers(held: string, needed: string): boolean {
  return held === needed || needed.startsWith(`${held}:`);
}

/** True when some scope in `held` covers `needed`. */
export function hasScope(held: readonly string[], needed: string): boolean {
  return held.some((h) => scopeCovers(h, needed));
}

/** The scopes of `needed` that `held` does not cover. */
export function missingScopes(held: readonly string[], needed: readonly string[]): string[] {
  return needed.filter((n) => !hasScope(held, n));
}

/** One entry of the scope catalogue. */
export interface ScopeDefinition {
  /** The scope token, e.g. `tools:execute:filesystem`. */
  name: string;
  /** A short sentence for the consent screen: "Run filesystem tools". */
  description: string;
}

/** The MCP scopes Gatehouse ships with. Extend with `new ScopeCatalogue([...defaultScopes, …])`. */
export const defaultScopes: readonly ScopeDefinition[] = [
  { name: 'tools:list', description: 'See which tools are available' },
  { name: 'tools:execute', description: 'Run any tool' },
  { name: 'tools:execute:filesystem', description: 'Run filesystem tools: read and write your files' },
  { name: 'tools:execute:database', description: 'Run database tools: query and change your database' },
  { name: 'resources:read', description: 'Read resources' },
  { name: 'resources:subscribe', description: 'Be notified when resources change' },
  { name: 'prompts:list', description: 'See which prompts are available' },
  { name: 'prompts:execute', description: 'Use prompts' },
];

/** `offline_access` may be requested (2026-07-28 MCP revision) but is never advertised by resources. */
export const OFFLINE_ACCESS = 'offline_access';

/** Not a permission on the resource, so not in any catalogue; the consent sentence is still owed. */
const offlineAccess: ScopeDefinition = {
  name: OFFLINE_ACCESS,
  description: 'Stay connected while you are away (renew its access without asking you)',
};

/** The set of scopes an authorization server knows, with their consent sentences. */
export class ScopeCatalogue {
  readonly #byName: Map<string, ScopeDefinition>;

  constructor(definitions: readonly ScopeDefinition[] = defaultScopes) {
    this.#byName = new Map(definitions.map((d) => [d.name, d]));
  }

  get names(): string[] {
    return [...this.#byName.keys()];
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /**
   * The consent sentence for each scope, dropping any that an also-requested ancestor already
   * covers, so the user reads "Run any tool" once rather than three overlapping lines.
   */
  describe(scopes: readonly string[]): ScopeDefinition[] {
    const kept = scopes.filter((s) => !scopes.some((o) => o !== s && scopeCovers(o, s)));
    return kept.map(
      (s) => this.#byName.get(s) ?? (s === OFFLINE_ACCESS ? offlineAccess : { name: s, description: s }),
    );
  }
}
