import type { AuditEvent, Store } from './store/types.ts';

/** How long an audit event may wait to be written with others. */
const FLUSH_MS = 10;
const MAX_BATCH = 500;

/**
 * Audit events are written behind the request, in batches: one store transaction per 10 ms
 * rather than one per event, so that auditing every token issued costs next to nothing on the
 * token endpoint. The price: a process killed outright loses at most the last 10 ms of events.
 * Writing errors are reported on stderr without the event's content.
 */
export class AuditLog {
  readonly #store: Store;
  #queue: AuditEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(store: Store) {
    this.#store = store;
  }

  append(event: AuditEvent): void {
    this.#queue.push(event);
    if (this.#queue.length >= MAX_BATCH) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes everything queued so far; resolves once it is in the store. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    this.#queue = [];
    this.#writing = this.#writing.then(async () => {
      if (!batch.length) return;
      try {
        await this.#store.appendAuditEvents(batch);
      } catch (err) {
        process.stderr.write(
          `gatehouse: could not write ${batch.length} audit events: ${(err as Error).name}\n`,
        );
      }
    });
    return this.#writing;
  }
}
