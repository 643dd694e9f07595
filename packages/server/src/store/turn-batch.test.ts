import assert from 'node:assert/strict';
import { test } from 'node:test';
import { turnBatch } from './turn-batch.ts';

test('turn batch: the calls of one turn reach flush together, each answered in order; an answer of its own can fail alone', async () => {
  const flushed: number[][] = [];
  const double = turnBatch((inputs: number[]) => {
    flushed.push(inputs);
    return inputs.map((n) => (n < 0 ? Promise.reject(new Error(`negative ${n}`)) : n * 2));
  });
  const answers = await Promise.allSettled([double(1), double(-2), double(3)]);
  assert.deepEqual(flushed, [[1, -2, 3]]);
  assert.deepEqual(answers[0], { status: 'fulfilled', value: 2 });
  assert.equal(answers[1]?.status, 'rejected');
  assert.deepEqual(answers[2], { status: 'fulfilled', value: 6 });
  assert.equal(await double(5), 10);
  assert.deepEqual(flushed, [[1, -2, 3], [5]], 'a later turn, a batch of its own');
});

test('turn batch: a failed flush rejects its whole batch; drain flushes what waits at once', async () => {
  let fail = true;
  const echo = turnBatch(async (inputs: string[]) => {
    if (fail) throw new Error('flush failed');
    return inputs;
  });
  const failed = await Promise.allSettled([echo('a'), echo('b')]);
  assert.deepEqual(
    failed.map((a) => a.status),
    ['rejected', 'rejected'],
  );
  fail = false;
  let settled = false;
  const waiting = echo('c').then((v) => {
    settled = true;
    return v;
  });
  await echo.drain();
  await Promise.resolve();
  assert.equal(settled, true, 'answered by drain, before the next turn');
  assert.equal(await waiting, 'c');
});
