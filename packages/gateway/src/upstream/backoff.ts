/** How restarts after repeated failures are spaced. */
export interface BackoffOptions {
  /** The wait before the second restart in a row; each further one doubles it. Default 250 ms. */
  initialMs?: number;
  /** The longest wait. Default 30 s. */
  maxMs?: number;
}

export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 30_000 } as const;

/**
 * The wait before starting again after `failures` failures in a row. The first restart is
 * immediate (a single crash should cost the next caller nothing); a process that keeps dying is
 * restarted after 250 ms, 500 ms, 1 s, … up to 30 s, so a crash loop does not burn the machine.
 *
 * @example restartDelay(1) // 0; restartDelay(3) // 500
 */
export function restartDelay(failures: number, options: BackoffOptions = {}): number {
  if (failures <= 1) return 0;
  const initial = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const max = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  return Math.min(initial * 2 ** Math.min(failures - 2, 30), max);
}
