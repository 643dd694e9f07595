/**
 * Times on admin pages: unix seconds shown and read as UTC, `YYYY-MM-DD HH:MM:SS UTC`, so every
 * operator reads the same moment whatever their browser's zone.
 *
 * @example utcTime(1_800_000_000) // '2027-01-15 08:00:00 UTC'
 */
export function utcTime(seconds: number | undefined): string {
  if (seconds === undefined) return '—';
  return `${new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * A `datetime-local` field's value (`2026-12-01T09:00`, seconds optional) or a date alone, read as
 * UTC; undefined for an empty field, NaN for anything else.
 */
export function parseUtc(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?))?$/.exec(value.trim());
  if (!match) return Number.NaN;
  return Math.floor(Date.parse(`${match[1]}T${match[2] ?? '00:00'}Z`) / 1000);
}
