import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeHeaderValue, HEADER_MISMATCH, McpRequestError, readMcpOperations } from './request.ts';

const body = (method: string, params: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof McpRequestError ? err.code : 'other';
  }
  return 'none';
};

test('reads single messages and batches', () => {
  assert.equal(readMcpOperations(new Headers(), body('tools/list'))[0]?.method, 'tools/list');
  const batch = JSON.stringify([
    { jsonrpc: '2.0', id: 1, method: 'a' },
    { jsonrpc: '2.0', id: 2, method: 'b' },
  ]);
  assert.deepEqual(
    readMcpOperations(new Headers(), batch).map((o) => o.method),
    ['a', 'b'],
  );
  assert.deepEqual(readMcpOperations(new Headers(), ''), []);
});

test('2026-07-28: Mcp-Method / Mcp-Name must agree with the body, and never accompany a batch', () => {
  const h = (m: Record<string, string>) => new Headers(m);
  assert.equal(
    code(() =>
      readMcpOperations(
        h({ 'mcp-method': 'tools/call', 'mcp-name': 'q' }),
        body('tools/call', { name: 'q' }),
      ),
    ),
    'none',
  );
  assert.equal(
    code(() => readMcpOperations(h({ 'mcp-method': 'tools/list' }), body('tools/call'))),
    HEADER_MISMATCH,
  );
  assert.equal(
    code(() =>
      readMcpOperations(
        h({ 'mcp-method': 'tools/call', 'mcp-name': 'x' }),
        body('tools/call', { name: 'q' }),
      ),
    ),
    HEADER_MISMATCH,
  );
  assert.equal(
    code(() => readMcpOperations(h({ 'mcp-name': 'q' }), body('tools/call', { name: 'q' }))),
    HEADER_MISMATCH,
  );
  const batch = JSON.stringify([JSON.parse(body('tools/list')), JSON.parse(body('tools/list'))]);
  assert.equal(
    code(() => readMcpOperations(h({ 'mcp-method': 'tools/list' }), batch)),
    HEADER_MISMATCH,
  );
  assert.equal(
    code(() =>
      readMcpOperations(
        h({ 'mcp-method': 'resources/read', 'mcp-name': 'demo://x' }),
        body('resources/read', { uri: 'demo://x' }),
      ),
    ),
    'none',
  );
});

test('SEP-2243: Base64-sentinel header values are decoded as UTF-8', () => {
  assert.equal(decodeHeaderValue(`=?base64?${Buffer.from('café').toString('base64')}?=`), 'café');
  assert.equal(decodeHeaderValue('plain'), 'plain');
});
