/**
 * What the consent page offers and what an answer grants. The user chooses among the requested
 * scopes only: the server never grants more than the client asked for and the user approved
 * (RFC 6749 §3.3). On step-up, the scopes the user's remembered consent already covers are kept
 * and shown as such; only the new ones are choices.
 */
import {
  hasScope,
  OFFLINE_ACCESS,
  type ScopeCatalogue,
  type ScopeDefinition,
  scopeCovers,
} from '@gatehouse/core';

/** A tool of the resource and the scope it needs (from the manifest, or the gateway's upstream). */
export interface ToolScope {
  name: string;
  scope: string;
}

/** The operator's consent lists (config `consent`). */
export interface ConsentPolicy {
  required: readonly string[];
  uncheckedByDefault: readonly string[];
}

/** One checkbox. */
export interface ConsentChoice extends ScopeDefinition {
  /** The tools this scope unlocks, by name, at most {@link NAMED_TOOLS} of them… */
  tools: string[];
  /** …and how many more there are ("and 12 more"). */
  moreTools: number;
  /** Cannot be unticked: granted whenever the user approves. */
  required: boolean;
  checked: boolean;
  /** Requested scopes this one covers, offered beneath it (ticking either is enough). */
  children: ConsentChoice[];
}

export interface ConsentChoices {
  /** Requested scopes the remembered consent already covers: shown, not offered. */
  already: ScopeDefinition[];
  /** The requested scopes still to decide. */
  offered: ConsentChoice[];
}

/** Up to this many tool names are shown in full; longer lists name five and count the rest. */
const NAMED_TOOLS = 6;
const NAMED_WHEN_LONG = 5;

const isRequired = (policy: ConsentPolicy, scope: string) => hasScope(policy.required, scope);

/** The requested scopes that `remembered` (the user's earlier consent) does not cover yet. */
export function newScopes(requested: readonly string[], remembered: readonly string[]): string[] {
  return requested.filter((s) => !hasScope(remembered, s));
}

function toolsUnlocked(
  scope: string,
  tools: readonly ToolScope[],
): Pick<ConsentChoice, 'tools' | 'moreTools'> {
  const names = [...new Set(tools.filter((t) => scopeCovers(scope, t.scope)).map((t) => t.name))];
  if (names.length <= NAMED_TOOLS) return { tools: names, moreTools: 0 };
  return { tools: names.slice(0, NAMED_WHEN_LONG), moreTools: names.length - NAMED_WHEN_LONG };
}

/**
 * The consent page's content for a request: what is already approved, and a choice per new
 * scope, nested under a requested ancestor (`tools:execute:filesystem` under `tools:execute`).
 */
export function consentChoices(input: {
  requested: readonly string[];
  remembered: readonly string[];
  catalogue: ScopeCatalogue;
  policy: ConsentPolicy;
  tools: readonly ToolScope[];
}): ConsentChoices {
  const fresh = newScopes(input.requested, input.remembered);
  const already = input.requested.filter((s) => !fresh.includes(s));
  const choice = (name: string): ConsentChoice => {
    const required = isRequired(input.policy, name);
    return {
      ...(input.catalogue.describe([name])[0] as ScopeDefinition),
      ...toolsUnlocked(name, input.tools),
      required,
      checked: required || !hasScope(input.policy.uncheckedByDefault, name),
      children: [],
    };
  };
  const offered: ConsentChoice[] = [];
  for (const name of fresh) {
    if (fresh.some((other) => other !== name && scopeCovers(other, name))) continue;
    const parent = choice(name);
    parent.children = fresh.filter((s) => s !== name && scopeCovers(name, s)).map(choice);
    offered.push(parent);
  }
  return { already: input.catalogue.describe(already), offered };
}

/**
 * The scope an approval grants, in request order: what was already approved, plus the new scopes
 * the user ticked, plus the required ones. Anything else in the answer (a scope not requested, a
 * malformed value) is ignored.
 */
export function approvedScope(input: {
  requested: readonly string[];
  remembered: readonly string[];
  /** The `scope` values the form carried, space-delimited. */
  ticked: string | undefined;
  policy: ConsentPolicy;
}): string[] {
  const ticked = new Set((input.ticked ?? '').split(' '));
  const fresh = newScopes(input.requested, input.remembered);
  return input.requested.filter((s) => !fresh.includes(s) || ticked.has(s) || isRequired(input.policy, s));
}

/** An approval that grants no permission on the resource (nothing, or only `offline_access`). */
export function grantsNothing(scope: readonly string[]): boolean {
  return scope.every((s) => s === OFFLINE_ACCESS);
}
