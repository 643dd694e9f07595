import { parseArgs } from 'node:util';
import fc from 'fast-check';
import type { FuzzRequest } from './generators/request.ts';
import { httpProperty } from './property.ts';
import { startWorld } from './world.ts';

/**
 * The long run of the HTTP fuzz suite: `npm run fuzz -- --runs 20000 [--seed N]`.
 *
 * Unlike the bounded run in `npm test`, it does not stop at the first bug: each counterexample is
 * shrunk and printed, its signature (invariant at route) is set aside, and the search goes on with
 * the runs left, so one run lists every distinct bug it meets. Exits 1 if it found any.
 */
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000' },
    seed: { type: 'string' },
    'progress-every': { type: 'string', default: '500' },
  },
});
const totalRuns = Number(values.runs);
const progressEvery = Number(values['progress-every']);
let seed = values.seed === undefined ? Date.now() ^ (Math.random() * 0x100000000) : Number(values.seed);

const world = await startWorld();
console.log(`fuzzing ${world.issuer}: ${totalRuns} runs, seed ${seed}`);
const known = new Set<string>();
const failures = new WeakMap<FuzzRequest, string[]>();
let done = 0;
let requests = 0;
const started = Date.now();
/** Progress: requests include the ones shrinking sends, so they outnumber runs after a failure. */
function onExchange() {
  requests++;
  if (requests % progressEvery !== 0) return;
  const perSecond = (requests / ((Date.now() - started) / 1000)).toFixed(1);
  console.log(
    `  ${requests} requests (${done} runs finished before this round), ${known.size} distinct failures so far, ${perSecond}/s`,
  );
}
try {
  while (done < totalRuns) {
    const details = await fc.check(httpProperty(world, { known, failures, onExchange }), {
      seed,
      numRuns: totalRuns - done,
      includeErrorInReport: true,
    });
    done += details.failed ? details.numRuns : totalRuns - done;
    if (!details.failed) break;
    const counterexample = details.counterexample?.[0];
    const message =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    console.log(
      `\n#${known.size + 1} (seed ${details.seed}, path "${details.counterexamplePath}", shrunk ${details.numShrinks} times)`,
    );
    console.log(message);
    // Set aside every invariant this counterexample broke, so the next round looks for other bugs.
    const signatures = counterexample === undefined ? undefined : failures.get(counterexample);
    if (!signatures) break;
    for (const signature of signatures) known.add(signature);
    seed = (seed * 1103515245 + 12345) | 0;
  }
} finally {
  await world.stop();
}
console.log(`\n${done} runs, ${known.size} distinct failures${known.size ? ':' : ''}`);
for (const signature of known) console.log(`  ${signature}`);
process.exitCode = known.size ? 1 : 0;
