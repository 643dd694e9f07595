import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheLifetimeSeconds } from './cache-lifetime.ts';

const bounds = { minSeconds: 60, maxSeconds: 86_400, defaultSeconds: 300 };
const NOW = Date.parse('2026-01-01T00:00:00Z');

test('RFC 9111 §5.2.2.1: max-age sets the lifetime, less the Age header', () => {
  assert.equal(cacheLifetimeSeconds({ 'cache-control': 'public, max-age=600' }, NOW, bounds), 600);
  assert.equal(cacheLifetimeSeconds({ 'cache-control': 'max-age="600"', age: '100' }, NOW, bounds), 500);
  assert.equal(cacheLifetimeSeconds({ 'cache-control': 'Max-Age=600' }, NOW, bounds), 600);
});

test('RFC 9111 §5.2.2.5 / §5.2.2.4: no-store and no-cache mean the document is not stored', () => {
  assert.equal(cacheLifetimeSeconds({ 'cache-control': 'no-store' }, NOW, bounds), 0);
  assert.equal(cacheLifetimeSeconds({ 'cache-control': 'max-age=600, No-Store' }, NOW, bounds), 0);
  assert.equal(cacheLifetimeSeconds({ 'cache-control': 'no-cache' }, NOW, bounds), 0);
  assert.equal(cacheLifetimeSeconds({ 'cache-control': ['max-age=600', 'no-store'] }, NOW, bounds), 0);
});

test('CIMD §4.4: the lifetime is kept within the configured minimum and maximum', () => {
  assert.equal(cacheLifetimeSeconds({ 'cache-control': 'max-age=0' }, NOW, bounds), 60);
  assert.equal(cacheLifetimeSeconds({ 'cache-control': 'max-age=31536000' }, NOW, bounds), 86_400);
  assert.equal(cacheLifetimeSeconds({ 'cache-control': 'max-age=abc' }, NOW, bounds), 60);
});

test('RFC 9111 §4.2.1: Expires counts from Date, or from now without Date', () => {
  const expires = new Date(NOW + 3_600_000).toUTCString();
  assert.equal(cacheLifetimeSeconds({ expires }, NOW, bounds), 3600);
  const date = new Date(NOW - 1_800_000).toUTCString();
  assert.equal(cacheLifetimeSeconds({ expires, date }, NOW, bounds), 5400);
  assert.equal(cacheLifetimeSeconds({ expires: '0' }, NOW, bounds), 60);
});

test('CIMD §4.4: without freshness information the default lifetime applies', () => {
  assert.equal(cacheLifetimeSeconds({}, NOW, bounds), 300);
  assert.equal(cacheLifetimeSeconds({ 'cache-control': 'public' }, NOW, bounds), 300);
});
