import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScopeCatalogue } from '@gatehouse/core';
import { consentChoices } from './consent-choices.ts';
import { type ConsentView, consentPage } from './consent-page.ts';

const base = {
  action: '/interaction/abc/consent',
  csrf: 'csrf-token',
  clientName: 'Research <Assistant>',
  preregistered: true,
  redirectHost: '127.0.0.1:5000',
  username: 'alice',
  resource: 'http://127.0.0.1:8080/mcp',
};

function render(input: Partial<Parameters<typeof consentChoices>[0]> & { error?: string }): string {
  const choices = consentChoices({
    requested: ['tools:list', 'tools:execute:filesystem', 'tools:execute:database'],
    remembered: [],
    catalogue: new ScopeCatalogue(),
    policy: { required: ['tools:list'], uncheckedByDefault: ['tools:execute:database'] },
    tools: [
      { name: 'read_<file>', scope: 'tools:execute:filesystem' },
      { name: 'write_file', scope: 'tools:execute:filesystem' },
    ],
    ...input,
  });
  const view: ConsentView = { ...base, ...choices, error: input.error };
  return consentPage(view);
}

/** Every `<input>` of the page, as attribute maps. */
function inputs(page: string): Map<string, string>[] {
  return [...page.matchAll(/<input([^>]*)>/g)].map(
    (m) =>
      new Map(
        [...(m[1] ?? '').matchAll(/\s([a-z-]+)(?:="([^"]*)")?/g)].map((a) => [a[1] as string, a[2] ?? '']),
      ),
  );
}

test('WCAG 1.3.1, 4.1.2: the choices are a fieldset with a legend, and every checkbox has a label bound to it', () => {
  const page = render({});
  assert.match(page, /<fieldset class="scopes">\n<legend>This application wants to:<\/legend>/);
  const boxes = inputs(page).filter((i) => i.get('type') === 'checkbox');
  assert.equal(boxes.length, 3);
  for (const box of boxes) {
    assert.ok(box.get('id'), 'each checkbox has an id');
    assert.match(page, new RegExp(`<label for="${box.get('id')}">`), 'and a label for it');
  }
});

test('a required scope is ticked and disabled, and submitted by a hidden field; an unticked-by-default one is unchecked', () => {
  const all = inputs(render({}));
  const list = all.find((i) => i.get('type') === 'checkbox' && !i.has('name') && i.has('disabled'));
  assert.ok(list?.has('checked'), 'required: a ticked, disabled box without a name');
  assert.ok(
    all.some(
      (i) => i.get('type') === 'hidden' && i.get('name') === 'scope' && i.get('value') === 'tools:list',
    ),
  );
  const fs = all.find((i) => i.get('value') === 'tools:execute:filesystem');
  assert.equal(fs?.get('name'), 'scope');
  assert.ok(fs?.has('checked'));
  const db = all.find((i) => i.get('value') === 'tools:execute:database');
  assert.equal(db?.has('checked'), false);
  assert.match(render({}), /\(required\)/);
});

test('each label holds its sentence and the tools it unlocks, escaped', () => {
  const page = render({});
  assert.match(
    page,
    /Run filesystem tools: read and write your files<\/span><span class="tools">Tools: read_&lt;file&gt; and write_file<\/span>/,
  );
  assert.doesNotMatch(page, /read_<file>/);
  assert.match(page, /Research &lt;Assistant&gt;/);
});

test('step-up: the page says what the app can already do, as text, and asks only for the new scope', () => {
  const page = render({ remembered: ['tools:list', 'tools:execute:filesystem'] });
  assert.match(page, /<span class="client-name">Research &lt;Assistant&gt;<\/span> can already:/);
  assert.match(page, /<legend>It now also asks to:<\/legend>/);
  const granted = /<ul class="scopes granted">([\s\S]*?)<\/ul>/.exec(page)?.[1] ?? '';
  assert.match(granted, /See which tools are available/);
  assert.match(granted, /Run filesystem tools/);
  assert.deepEqual(
    inputs(page)
      .filter((i) => i.get('name') === 'scope')
      .map((i) => i.get('value')),
    ['tools:execute:database'],
  );
});

test('an error is announced (role=alert) and tied to the choices', () => {
  const page = render({ error: 'Choose at least one thing to allow, or choose Deny.' });
  assert.match(page, /<p class="error" role="alert" id="consent-error">Choose at least one/);
  assert.match(page, /<fieldset class="scopes" aria-describedby="consent-error">/);
});

test('issue #12: the accounts a server uses are listed with a Connect or Reconnect link each, names escaped; none listed, no section', () => {
  const choices = consentChoices({
    requested: ['tools:list'],
    remembered: [],
    catalogue: new ScopeCatalogue(),
    policy: { required: [], uncheckedByDefault: [] },
    tools: [],
  });
  const page = consentPage({
    ...base,
    ...choices,
    connections: [
      { provider: 'github', state: 'missing', href: '/connect/github?interaction=abc' },
      { provider: 'ji<ra>', state: 'broken', href: '/connect/ji%3Cra%3E?interaction=abc' },
      { provider: 'slack', state: 'active', href: '/connect/slack?interaction=abc' },
    ],
  });
  assert.match(page, /<a href="\/connect\/github\?interaction=abc">Connect your github account<\/a>/);
  assert.match(
    page,
    /data-state="broken"><strong>ji&lt;ra&gt;<\/strong>: stopped working\. <a href="\/connect\/ji%3Cra%3E\?interaction=abc">Reconnect/,
  );
  assert.match(
    page,
    /data-connection="slack" data-state="active"><strong>slack<\/strong>: <span class="connected">connected/,
  );
  assert.doesNotMatch(page, /\/connect\/slack/, 'a connected account has no link');
  assert.doesNotMatch(consentPage({ ...base, ...choices }), /Your accounts this server uses/);
});
