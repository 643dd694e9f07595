import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { httpProperty } from './property.ts';
import { startWorld, type World } from './world.ts';

/**
 * The bounded run of the HTTP fuzz suite, part of `npm test`: a fixed seed and number of runs, so
 * a failure replays exactly (FUZZ_SEED and FUZZ_RUNS override them; the failure message prints
 * the seed and path to pass back). The long run is `npm run fuzz -- --runs 20000`.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
/** Keeps the run inside its budget on a loaded machine; a failure found before it still fails. */
const TIME_LIMIT_MS = 25_000;

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world?.stop());

test('RFC 6749 §5.2, RFC 9110 §15.5.6, RFC 9112 §9.6: random and adversarial requests to every route of gatehouse serve get no 5xx, well-formed errors, no secrets or internals, and leave the connection usable', {
  timeout: 180_000,
}, async () => {
  await fc.assert(httpProperty(world), {
    seed: SEED,
    numRuns: RUNS,
    includeErrorInReport: true,
    plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS)],
  });
});
