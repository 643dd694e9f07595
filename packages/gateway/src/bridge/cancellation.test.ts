import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthInfo } from '@gatehouse/resource';
import { InFlightRequests } from './cancellation.ts';

const holder = (tokenId: string | undefined, token = `token-${tokenId}`) => ({ tokenId, token }) as AuthInfo;

test('MCP 2025-11-25 cancellation: notifications/cancelled aborts the request of that id, and only for the same token', () => {
  const inFlight = new InFlightRequests();
  const alice = holder('jti-alice');
  const mallory = holder('jti-mallory');
  const request = inFlight.track(alice, 1);
  inFlight.cancel(mallory, 1, 'not yours');
  assert.equal(request.signal.aborted, false, 'another token cannot cancel it');
  inFlight.cancel(alice, '1', 'wrong type');
  assert.equal(request.signal.aborted, false, 'the id "1" is not the id 1');
  inFlight.cancel(alice, 1, 'user pressed stop');
  assert.equal(request.signal.aborted, true);
  assert.equal(request.signal.reason, 'user pressed stop');
});

test('MCP cancellation: a request that has ended can no longer be cancelled; tokens without a jti are told apart by digest', () => {
  const inFlight = new InFlightRequests();
  const a = holder(undefined, 'opaque-a');
  const b = holder(undefined, 'opaque-b');
  const ended = inFlight.track(a, 2);
  ended.done();
  inFlight.cancel(a, 2, 'late');
  assert.equal(ended.signal.aborted, false);
  const live = inFlight.track(a, 3);
  inFlight.cancel(b, 3, 'other token');
  assert.equal(live.signal.aborted, false);
  inFlight.cancel(a, 3, 'same token');
  assert.equal(live.signal.aborted, true);
});
