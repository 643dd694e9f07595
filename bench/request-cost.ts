/**
 * What the web `Request` the design puts at the core costs per token request, in isolation: the
 * Node adapter's construction (a body of the token endpoint's size, and the abort signal that
 * follows the client's connection) against the same Request without a body or a signal, and the
 * `Response` of a token. Side by side in one process, interleaved, medians of 5 rounds; the
 * README's "Where the time goes" quotes it.
 *
 * Usage: node bench/request-cost.ts [--iterations 20000]
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' } } });
const iterations = Number(values.iterations);
const body = new TextEncoder().encode(`grant_type=refresh_token&refresh_token=gh_r_${'x'.repeat(60)}`);
const headers = {
  host: '127.0.0.1:8080',
  'content-type': 'application/x-www-form-urlencoded',
  authorization: 'Basic Z2F0ZWhvdXNlOnNlY3JldC1zZWNyZXQtc2VjcmV0',
  'content-length': String(body.byteLength),
};
const url = 'http://127.0.0.1:8080/oauth/token';

const cases = new Map<string, () => unknown>([
  [
    'Request, body + signal (the adapter)',
    () => new Request(url, { method: 'POST', headers, body, signal: new AbortController().signal }),
  ],
  ['Request, body, no signal', () => new Request(url, { method: 'POST', headers, body })],
  ['Request, no body, no signal', () => new Request(url, { method: 'POST', headers })],
  [
    'Response of a token',
    () =>
      new Response('{"access_token":"x","token_type":"Bearer"}', {
        headers: { 'content-type': 'application/json' },
      }),
  ],
]);

const samples = new Map<string, number[]>([...cases.keys()].map((k) => [k, []]));
for (const make of cases.values()) for (let i = 0; i < 5_000; i++) make();
for (let round = 0; round < 5; round++) {
  for (const [name, make] of cases) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) make();
    samples.get(name)?.push(Number(process.hrtime.bigint() - started) / iterations / 1000);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(`web Request/Response construction, µs each (median of 5 interleaved rounds × ${iterations}):`);
for (const [name, xs] of samples) console.log(`  ${name.padEnd(38)} ${median(xs).toFixed(2)}`);
