import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEvent } from '../store/types.ts';
import { ConsoleBrowser, startConsole } from './console-test-kit.ts';

let kit: Awaited<ReturnType<typeof startConsole>>;
let ann: { id: string };
const T = 1_800_000_000;

before(async () => {
  kit = await startConsole();
  await kit.addUser('root', true);
  ann = await kit.addUser('ann');
  const call = (at: number, server: string, name: string, outcome: string): AuditEvent => ({
    at,
    type: 'mcp.call',
    user_id: ann.id,
    client_id: 'notes-app',
    detail: { server, method: 'tools/call', name, outcome, duration_ms: 2 },
  });
  await kit.store.appendAuditEvents([
    call(T - 7200, 'files', 'read_file', 'allowed'),
    call(T - 3600, 'files', 'write_file', 'denied'),
    call(T - 60, 'db', 'query', 'upstream_error'),
    { at: T - 30, type: 'login.failed', detail: { username: 'mallory' } },
  ]);
});
after(() => kit.close());

async function signedIn(name = 'root') {
  const browser = new ConsoleBrowser(kit.as);
  await browser.signIn(name);
  return browser;
}

test('admin audit: filters by user (by name), server, tool, outcome, type and time narrow the trail', async () => {
  const browser = await signedIn();
  const page = async (query: string) => {
    const { response, text } = await browser.request(`/admin/audit?${query}`);
    assert.equal(response.status, 200);
    return [...text.matchAll(/<tr data-event="\d+">[\s\S]*?<\/tr>/g)].map((m) => m[0]);
  };
  const byUser = await page('user=ann');
  assert.equal(byUser.length, 3);
  assert.match(byUser[0] ?? '', /query/, 'newest first');
  assert.equal((await page('server=files')).length, 2);
  const denied = await page('server=files&outcome=denied');
  assert.equal(denied.length, 1);
  assert.match(denied[0] ?? '', /write_file/);
  assert.equal((await page('tool=read_file')).length, 1);
  assert.equal((await page('type=login.failed')).length, 1);
  // 2027-01-15T07:00 UTC is T - 3600: from is inclusive, to exclusive.
  const window = await page('from=2027-01-15T07:00&to=2027-01-15T07:59');
  assert.equal(window.length, 1);
  assert.match(window[0] ?? '', /write_file/);
  const refilled = (await browser.request('/admin/audit?server=files&outcome=denied')).text;
  assert.match(refilled, /name="server" value="files"/);
  assert.match(refilled, /<option value="denied" selected>/);
  assert.equal((await browser.request('/admin/audit?from=yesterday')).response.status, 400);
});

test('admin audit: the follow view reloads itself every 5 s without script, keeping the filters', async () => {
  const browser = await signedIn();
  const plain = await browser.request('/admin/audit?server=db');
  assert.equal(plain.response.headers.get('refresh'), null);
  assert.match(plain.text, /href="\/admin\/audit\?server=db&amp;follow=1"/);
  const follow = await browser.request('/admin/audit?server=db&follow=1');
  assert.equal(follow.response.status, 200);
  assert.equal(follow.response.headers.get('refresh'), '5');
  assert.doesNotMatch(follow.response.headers.get('content-security-policy') ?? '', /script-src/);
  assert.doesNotMatch(follow.text, /<script/);
  assert.match(follow.text, /upstream_error/);
  assert.doesNotMatch(follow.text, /read_file/);
});

test('admin audit: the JSON-lines export carries the same filters, one event per line, as application/jsonl', async () => {
  const browser = await signedIn();
  const { response, text } = await browser.request('/admin/audit.jsonl?user=ann&server=files');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/jsonl/);
  assert.match(response.headers.get('content-disposition') ?? '', /attachment/);
  const lines = text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEvent);
  assert.deepEqual(
    lines.map((e) => e.detail?.name),
    ['write_file', 'read_file'],
  );
  assert.ok(lines.every((e) => e.user_id === ann.id && e.detail?.server === 'files'));
  const all = await browser.request('/admin/audit.jsonl');
  assert.equal(all.text.trimEnd().split('\n').length >= 4, true);
});

test('admin audit: a non-admin gets 403 on the page, the follow view and the export', async () => {
  const user = await signedIn('ann');
  for (const path of ['/admin/audit', '/admin/audit?follow=1', '/admin/audit.jsonl']) {
    const { response, text } = await user.request(path);
    assert.equal(response.status, 403, path);
    assert.doesNotMatch(text, /mcp\.call/);
  }
  const nobody = new ConsoleBrowser(kit.as);
  const { response } = await nobody.request('/admin/audit.jsonl');
  assert.equal(response.status, 303);
});
