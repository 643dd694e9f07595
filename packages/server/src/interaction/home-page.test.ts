import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { homePage } from './home-page.ts';

describe('home page', () => {
  test('RFC 8414 §3: the front door names the issuer, its MCP servers, sign-in, connected apps and the metadata', () => {
    const page = homePage({
      issuer: 'https://auth.example.com',
      mcpServers: ['https://auth.example.com/mcp', 'https://auth.example.com/mcp/notes'],
    });
    assert.match(page, /<h1>Gatehouse<\/h1>/);
    assert.match(page, /<code>https:\/\/auth\.example\.com<\/code>/);
    for (const url of ['https://auth.example.com/mcp', 'https://auth.example.com/mcp/notes']) {
      assert.ok(page.includes(`<a href="${url}"><code>${url}</code></a>`), url);
    }
    assert.match(page, /<a href="\/login">Sign in<\/a>/);
    assert.match(page, /<a href="\/account\/apps">Connected apps<\/a>/);
    assert.ok(page.includes('href="https://auth.example.com/.well-known/oauth-authorization-server"'));
    assert.doesNotMatch(page, /openid-configuration/);
  });

  test('HTML: every value is escaped and the page carries no script', () => {
    const page = homePage({
      issuer: 'https://auth.example.com"><script>alert(1)</script>',
      mcpServers: ['https://auth.example.com/mcp?a=1&b="<img src=x onerror=alert(1)>'],
    });
    assert.doesNotMatch(page, /<script/i);
    assert.doesNotMatch(page, /<img/i);
    assert.ok(page.includes('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(page.includes('a=1&amp;b=&quot;&lt;img src=x onerror=alert(1)&gt;'));
  });
});
