import type { Timers } from '../timers.ts';

/** A clock that moves only when the test says: `advance(ms)` runs the timers then due, in order. */
export class ManualTimers implements Timers {
  #now = 1_700_000_000_000;
  #next = 0;
  readonly #due = new Map<number, { at: number; callback: () => void }>();

  now = (): number => this.#now;

  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = ++this.#next;
    this.#due.set(id, { at: this.#now + ms, callback });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.#due.delete(handle as number);
  };

  /** Timers waiting to run. */
  get pending(): number {
    return this.#due.size;
  }

  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      let first: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#due)
        if (entry[1].at <= until && (!first || entry[1].at < first[1].at)) first = entry;
      if (!first) break;
      this.#due.delete(first[0]);
      this.#now = first[1].at;
      first[1].callback();
    }
    this.#now = until;
  }
}
