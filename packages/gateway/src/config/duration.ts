/**
 * Durations in the configuration file and on the command line: a whole number of seconds, or a
 * number with a unit — `90s`, `15m`, `1h`, `30d`.
 */
const UNIT_SECONDS = new Map([
  ['s', 1],
  ['m', 60],
  ['h', 3600],
  ['d', 86400],
]);

const DURATION = /^([1-9][0-9]{0,8})([smhd])$/;

/**
 * The duration in seconds, or `undefined` when `value` is not one (zero, negative, fractional,
 * or an unknown unit).
 *
 * @example parseDuration('15m') // 900
 * @example parseDuration(3600) // 3600
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (/^[1-9][0-9]{0,9}$/.test(value)) return Number(value);
  const match = DURATION.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * (UNIT_SECONDS.get(match[2] as string) as number);
}

/** How a duration is described in errors and help. */
export const DURATION_HELP = 'a duration such as 15m, 1h or 30d (or whole seconds)';

/** RFC 9068 access tokens cannot be revoked at a guard that has lost the feed: Gatehouse keeps them short. */
export const ACCESS_TOKEN_TTL_RANGE = { min: 900, max: 3600 } as const;

/** Why an access-token lifetime is refused, or `undefined` when it is within 15 min–1 h. */
export function accessTokenTtlProblem(seconds: number): string | undefined {
  const { min, max } = ACCESS_TOKEN_TTL_RANGE;
  return seconds < min || seconds > max
    ? `expected an access-token lifetime from 15m to 1h (${min}–${max} seconds), got ${seconds} seconds`
    : undefined;
}
