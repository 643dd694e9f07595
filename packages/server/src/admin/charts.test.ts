import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barChart, bucketLabel, MAX_BARS, niceMax, timeChart } from './charts.ts';

const HOUR = 3_600;
const T0 = Date.UTC(2026, 11, 1) / 1000;

test('charts: a chart over time is an SVG image named by its <title>, described by its <desc>, with its numbers in a table', () => {
  const svg = timeChart({
    id: 'tokens',
    title: 'Tokens issued',
    noun: 'token',
    bucketSeconds: HOUR,
    buckets: [
      { start: T0, count: 3 },
      { start: T0 + HOUR, count: 0 },
      { start: T0 + 2 * HOUR, count: 7 },
    ],
    detail: '9 new, 1 by refresh.',
  }).value;
  assert.match(svg, /<svg role="img" aria-labelledby="tokens-title tokens-desc"/);
  assert.match(svg, /<title id="tokens-title">Tokens issued<\/title>/);
  const summary =
    '10 tokens in this period; the most, 7, in the period from 2026-12-01 02:00 UTC. 9 new, 1 by refresh.';
  assert.ok(svg.includes(`<desc id="tokens-desc">${summary}</desc>`));
  assert.ok(svg.includes(`<p class="chart-summary" id="tokens-summary">${summary}</p>`));
  assert.equal(svg.match(/<rect /g)?.length, 2, 'one bar per non-empty bucket');
  assert.match(svg, /<td>2026-12-01 02:00 UTC<\/td><td class="num">7<\/td>/);
  assert.doesNotMatch(svg, /style=|<script/i, 'the CSP allows neither inline style nor script');
});

test('charts: labels are escaped (tool and server names come from configuration and clients)', () => {
  const out = barChart({
    id: 'per-tool',
    title: 'Calls per tool',
    noun: 'call',
    bars: [{ label: '<script>alert(1)</script>', count: 2 }],
  }).value;
  assert.doesNotMatch(out, /<script>/);
  assert.match(out, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});

test('charts: bars by category are sorted largest first, the chart shows at most MAX_BARS, the table lists every one', () => {
  const bars = Array.from({ length: MAX_BARS + 3 }, (_, i) => ({ label: `tool-${i}`, count: i + 1 }));
  const out = barChart({ id: 'c', title: 'Calls per tool', noun: 'call', bars }).value;
  assert.equal(out.match(/<rect /g)?.length, MAX_BARS);
  assert.equal(out.match(/<tr><td>/g)?.length, MAX_BARS + 3);
  assert.ok(out.indexOf('tool-12') < out.indexOf('tool-11'));
  assert.match(out, /91 calls in this period: tool-12 13, tool-11 12, tool-10 11, and 10 others\./);
});

test('charts: an empty period says so in words instead of drawing an empty image', () => {
  const out = barChart({ id: 'r', title: 'Refusals by reason', noun: 'refusal', bars: [] }).value;
  assert.doesNotMatch(out, /<svg/);
  assert.match(out, /No refusals in this period\./);
  const time = timeChart({
    id: 't',
    title: 'Reuse',
    noun: 'reuse detection',
    bucketSeconds: HOUR,
    buckets: [],
  });
  assert.match(time.value, /No reuse detections in this period\./);
});

test('charts: axes read in round numbers and daily buckets are labelled by date', () => {
  assert.deepEqual([0, 1, 3, 10, 11, 180, 2001].map(niceMax), [1, 1, 5, 10, 20, 200, 5000]);
  assert.equal(bucketLabel(T0, 86_400), '2026-12-01');
  assert.equal(bucketLabel(T0 + 9 * HOUR, HOUR), '2026-12-01 09:00 UTC');
});
