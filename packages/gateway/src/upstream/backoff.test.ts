import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { restartDelay } from './backoff.ts';
import { forEachLine, MAX_LINE_CHARS } from './stderr-lines.ts';

test('crash backoff: the first restart is immediate, then 250 ms doubling up to 30 s', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => restartDelay(n)),
    [0, 250, 500, 1000, 2000],
  );
  assert.equal(restartDelay(40), 30_000);
  assert.equal(restartDelay(1000), 30_000);
  assert.equal(restartDelay(3, { initialMs: 10, maxMs: 15 }), 15);
});

test('stderr of an upstream: logged line by line, an endless line cut to a bound', async () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  forEachLine(stream, (line) => lines.push(line));
  stream.write('first\nsec');
  stream.write('ond\r\n\n');
  stream.write('x'.repeat(MAX_LINE_CHARS + 10));
  stream.write('y'.repeat(100));
  stream.write('z\nlast');
  stream.end();
  await new Promise((resolve) => stream.on('end', resolve));
  assert.deepEqual(lines, ['first', 'second', `${'x'.repeat(MAX_LINE_CHARS)}…`, 'last']);
});
