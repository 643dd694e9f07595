/**
 * Batching per turn of the event loop, as the stores do on the token hot path (group commit of
 * rotations, grouped lookups): the calls made while the loop is busy wait for its next turn, where
 * `flush` takes all their inputs at once and answers each in order. An answer may be a promise of
 * its own, so that one failure reaches only its own caller; a failed `flush` rejects the batch.
 *
 * @example
 * const lookup = turnBatch((hashes: string[]) => readMany(hashes));
 * const [a, b] = await Promise.all([lookup('x'), lookup('y')]); // one readMany(['x', 'y'])
 */
export interface TurnBatch<I, O> {
  (input: I): Promise<O>;
  /** Flushes what is waiting now, rather than at the next turn (a store closing). */
  drain(): Promise<void>;
}

export function turnBatch<I, O>(
  flush: (inputs: I[]) => Promise<Array<O | Promise<O>>> | Array<O | Promise<O>>,
): TurnBatch<I, O> {
  let pending: Array<{ input: I; resolve(output: O | Promise<O>): void; reject(err: unknown): void }> = [];
  const run = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      const outputs = await flush(batch.map((p) => p.input));
      for (let i = 0; i < batch.length; i++) batch[i]?.resolve(outputs[i] as O | Promise<O>);
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  };
  const call = (input: I) =>
    new Promise<O>((resolve, reject) => {
      pending.push({ input, resolve, reject });
      if (pending.length === 1) setImmediate(run);
    });
  return Object.assign(call, { drain: run });
}
