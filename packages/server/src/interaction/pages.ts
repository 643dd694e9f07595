import { html, type SafeHtml } from './html.ts';

export const STYLESHEET_PATH = '/assets/gatehouse.css';

/**
 * Security headers for every page: no framing (MCP security best practice, RFC 9700 §4.16), no
 * script at all, forms only to ourselves and, after consent, to the client's redirect origin.
 */
export function pageHeaders(formTargets: string[] = []): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': [
      "default-src 'none'",
      "style-src 'self'",
      "img-src 'self'",
      `form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not `no-referrer`: under it browsers send `Origin: null` on our own form posts, which the
    // CSRF check must refuse. `same-origin` still tells other sites (the client) nothing.
    'referrer-policy': 'same-origin',
  };
}

/**
 * The CSP source (CSP3 §2.3.1) that lets a form's answer redirect to `uri`: its origin for http(s);
 * for a private-use scheme (RFC 8252 §7.1, `com.example.app:/cb`) the scheme-source
 * `com.example.app:`, because such a URL's origin is opaque and serializes as `null`.
 *
 * @example formActionSource('com.example.app:/callback') // 'com.example.app:'
 */
export function formActionSource(uri: string): string {
  const url = new URL(uri);
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : url.protocol;
}

/** The page frame every server-rendered page shares. */
export function layout(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Gatehouse</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`.value;
}

export function loginPage(input: {
  action: string;
  csrf: string;
  error?: string;
  username?: string;
  /** "Continue with …" links to upstream identity providers. */
  providers?: readonly { name: string; href: string }[];
  /** Whether the username and password form shows. Default true. */
  password?: boolean;
}): string {
  const providers = input.providers ?? [];
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
${input.error ? html`<p class="error" role="alert">${input.error}</p>` : ''}
${providers.map((p) => html`<p><a class="button" href="${p.href}">Continue with ${p.name}</a></p>`)}
${
  input.password === false
    ? ''
    : html`${providers.length ? html`<p class="meta">Or with your username and password:</p>` : ''}
<form method="post" action="${input.action}">
<input type="hidden" name="csrf" value="${input.csrf}">
<label>Username <input name="username" autocomplete="username" required autofocus value="${input.username ?? ''}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`
}`,
  );
}

export function errorPage(title: string, message: string): string {
  return layout(title, html`<h1>${title}</h1><p class="error" role="alert">${message}</p>`);
}

export const stylesheet = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f5f5f4;color:#1c1917}
main{max-width:28rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin-top:0}
label{display:block;margin:.75rem 0}
input{display:block;width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem;font:inherit}
button{font:inherit;padding:.5rem 1.25rem;margin:.5rem .5rem 0 0;border:0;border-radius:6px;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#e7e5e4;color:#1c1917}
a.button{display:block;text-align:center;padding:.5rem 1.25rem;border-radius:6px;background:#1d4ed8;color:#fff;text-decoration:none}
.error{color:#b91c1c}
.verified{color:#15803d}
.unverified{color:#b45309}
ul.scopes li{margin:.25rem 0}
h2{font-size:1.05rem;margin:1rem 0 .25rem}
code{overflow-wrap:anywhere}
fieldset.scopes{border:1px solid #d6d3d1;border-radius:8px;margin:1rem 0;padding:.25rem 1rem .5rem;min-width:0}
fieldset.scopes legend{font-weight:600;padding:0 .25rem}
ul.choices{list-style:none;padding:0;margin:0}
ul.choices ul.choices{padding-left:1.85rem}
ul.choices li{margin:.6rem 0}
.choice{display:flex;gap:.6rem;align-items:flex-start}
.choice input{display:block;flex:none;width:1.2rem;height:1.2rem;margin:.15rem 0 0;padding:0;accent-color:#1d4ed8}
.choice label{margin:0;min-width:0;overflow-wrap:anywhere}
.choice .tools{display:block;color:#57534e;font-size:.9rem}
.choice .required{color:#57534e;font-size:.9rem}
:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
@media (max-width:30rem){main{margin:0;border-radius:0;box-shadow:none;padding:1.25rem}}
ul.apps{list-style:none;padding:0}
ul.apps>li{border-top:1px solid #e7e5e4;padding:1rem 0}
.meta{color:#57534e;font-size:.9rem;margin:.25rem 0}
form.inline{display:inline}
`;
