import { gatehouseConfigSchema } from './schema.ts';

/**
 * "unknown key" with the keys allowed there, and the likely intended one when the key is a typo
 * (`comand` → `command`): a misspelt key must not silently turn a setting off.
 */
export function describeUnknownKey(objectPath: readonly PropertyKey[], key: string): string {
  const allowed = keysAt(objectPath);
  if (!allowed.length) return 'unknown key';
  const near = allowed.find((candidate) => distance(candidate.toLowerCase(), key.toLowerCase()) <= 2);
  return near
    ? `unknown key; did you mean "${near}"?`
    : `unknown key; expected one of: ${allowed.join(', ')}`;
}

/** Minimal view of a zod v4 schema's definition, enough to walk objects, records and wrappers. */
interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  innerType?: { _zod: { def: Def } };
  in?: { _zod: { def: Def } };
  valueType?: { _zod: { def: Def } };
}

/** The keys of the object schema at `path` (record keys and wrappers stepped over). */
function keysAt(path: readonly PropertyKey[]): string[] {
  let def: Def | undefined = (gatehouseConfigSchema as unknown as { _zod: { def: Def } })._zod.def;
  let i = 0;
  while (def) {
    if (def.type === 'optional' || def.type === 'nullable' || def.type === 'default')
      def = def.innerType?._zod.def;
    else if (def.type === 'pipe') def = def.in?._zod.def;
    else if (def.type === 'record') {
      if (i >= path.length) return [];
      i++;
      def = def.valueType?._zod.def;
    } else if (def.type === 'object') {
      if (i >= path.length) return Object.keys(def.shape ?? {}).filter((k) => k !== '$schema');
      const segment = String(path[i++]);
      def = def.shape && Object.hasOwn(def.shape, segment) ? def.shape[segment]?._zod.def : undefined;
    } else return [];
  }
  return [];
}

/** Levenshtein distance, for short key names only. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length] as number;
}
