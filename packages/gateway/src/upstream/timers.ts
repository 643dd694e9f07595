/**
 * The clock the pool reads and the timers it sets (idle stop, restart backoff). Tests pass a
 * manual clock so that idle stops and backoff happen when the test says, without sleeping.
 */
export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real time. Timers are unref'd: an idle upstream must not keep the gateway's process alive. */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
