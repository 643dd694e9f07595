import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { DeadlineExceededError, untilAborted, withDeadline } from './deadline.ts';

// One loopback server: /silent never answers, /slow-body sends headers and then stalls.
let server: Server;
let base: string;
before(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/slow-body')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('a server that never answers fails with DeadlineExceededError naming the URL (without its query) and the deadline', async () => {
  const err = await withDeadline(`${base}/silent?cursor=secret`, { timeoutMs: 50 }, (signal) =>
    fetch(`${base}/silent?cursor=secret`, { signal }),
  ).catch((e: unknown) => e);
  assert.ok(err instanceof DeadlineExceededError);
  assert.equal(err.code, 'ERR_DEADLINE_EXCEEDED');
  assert.equal(err.url, `${base}/silent`);
  assert.equal(err.timeoutMs, 50);
  assert.equal(err.message, `${base}/silent did not answer within 50 ms`);
});

test('the deadline covers the body: headers on time and a body that stalls still fail', async () => {
  await assert.rejects(
    withDeadline(`${base}/slow-body`, { timeoutMs: 50 }, async (signal) => {
      const res = await fetch(`${base}/slow-body`, { signal });
      return res.json();
    }),
    DeadlineExceededError,
  );
});

test('an injected fetch that ignores the signal cannot outlast the deadline', async () => {
  const deaf = () => new Promise<Response>(() => {});
  await assert.rejects(
    withDeadline(`${base}/silent`, { timeoutMs: 20 }, () => deaf()),
    DeadlineExceededError,
  );
});

test("the caller's abort wins with the caller's reason; untilAborted leaves shared work running", async () => {
  const caller = new AbortController();
  const pending = withDeadline(`${base}/silent`, { timeoutMs: 60_000, signal: caller.signal }, (signal) =>
    fetch(`${base}/silent`, { signal }),
  );
  caller.abort(new Error('user cancelled'));
  await assert.rejects(pending, /user cancelled/);

  let finish!: (v: string) => void;
  const shared = new Promise<string>((resolve) => {
    finish = resolve;
  });
  const impatient = new AbortController();
  const waiting = untilAborted(shared, impatient.signal);
  impatient.abort(new Error('not waiting'));
  await assert.rejects(waiting, /not waiting/);
  finish('done');
  assert.equal(await shared, 'done');

  // A signal aborted before the wait began: the abandoned work's own failure is not left unhandled.
  const late = AbortSignal.abort(new Error('too late'));
  await assert.rejects(untilAborted(Promise.reject(new Error('shared work failed')), late), /too late/);
});
