import type { Context } from '../context.ts';
import { html, type SafeHtml } from '../interaction/html.ts';
import { STYLESHEET_PATH } from '../interaction/pages.ts';
import { page } from '../interaction/responses.ts';
import { ADMIN_HOME } from './return-path.ts';

export type AdminSection = 'overview' | 'users' | 'clients' | 'grants' | 'connections' | 'keys' | 'audit';

/** The console's own stylesheet, beside the site's (CSP `style-src 'self'`: no inline style). */
export const ADMIN_STYLESHEET_PATH = '/assets/gatehouse-admin.css';

/** The navigation, in this order; each section lives at its path. */
const SECTIONS: ReadonlyArray<readonly [AdminSection, string, string]> = [
  ['overview', 'Overview', ADMIN_HOME],
  ['users', 'Users', `${ADMIN_HOME}/users`],
  ['clients', 'Clients', `${ADMIN_HOME}/clients`],
  ['grants', 'Grants', `${ADMIN_HOME}/grants`],
  ['connections', 'Connections', `${ADMIN_HOME}/connections`],
  ['keys', 'Keys', `${ADMIN_HOME}/keys`],
  ['audit', 'Audit', `${ADMIN_HOME}/audit`],
];

export interface AdminView {
  title: string;
  active: AdminSection;
  body: SafeHtml;
  /** The CSRF token of the page's forms (see `adminCsrf`). */
  csrf: string;
  /** A one-line outcome of the last action ("User disabled."), shown above the body. */
  notice?: string | undefined;
  /** The CSRF cookie `adminCsrf` returned, when the browser had none yet. */
  setCookie?: string | undefined;
  /** Default 200. */
  status?: number | undefined;
}

/** The admin page frame: nav (Overview, Users, Clients, Grants, Connections, Keys, Audit), title, body. */
export function adminPage(_ctx: Context, view: AdminView): Response {
  const nav = SECTIONS.map(
    ([section, label, href]) =>
      html`<li><a href="${href}"${section === view.active ? html` aria-current="page"` : ''}>${label}</a></li>`,
  );
  const body = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${view.title} · Gatehouse admin</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
<link rel="stylesheet" href="${ADMIN_STYLESHEET_PATH}">
</head>
<body class="admin">
<header class="admin-bar">
<a class="brand" href="${ADMIN_HOME}">Gatehouse admin</a>
<nav aria-label="Admin sections"><ul>${nav}</ul></nav>
</header>
<main>
<h1>${view.title}</h1>
${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
${view.body}
</main>
</body>
</html>
`;
  return page(body.value, view.status ?? 200, { 'set-cookie': view.setCookie });
}

/** The section an admin path belongs to, for the nav of pages that only know their action. */
function sectionOf(path: string): AdminSection {
  const segment = path.slice(ADMIN_HOME.length + 1).split(/[/?]/)[0] ?? '';
  return SECTIONS.find(([section]) => section === segment)?.[0] ?? 'overview';
}

/**
 * A destructive action: GET shows a confirmation page (what will happen, Confirm / Cancel), POST
 * with the CSRF token and `confirm=yes` performs it; the action is audited with `actor` = the
 * acting admin's id.
 */
export function confirmPage(
  ctx: Context,
  view: {
    title: string;
    question: string;
    action: string;
    csrf: string;
    fields: Record<string, string>;
    /** Where Cancel goes. Default: the section's page. */
    cancel?: string | undefined;
    setCookie?: string | undefined;
  },
): Response {
  const active = sectionOf(view.action);
  const cancel = view.cancel ?? SECTIONS.find(([section]) => section === active)?.[2] ?? ADMIN_HOME;
  const hidden = Object.entries(view.fields).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  );
  const body = html`<p class="question">${view.question}</p>
<form method="post" action="${view.action}" class="confirm">
<input type="hidden" name="csrf" value="${view.csrf}">
<input type="hidden" name="confirm" value="yes">
${hidden}
<button type="submit" class="danger">Confirm</button>
<a class="button secondary" href="${cancel}">Cancel</a>
</form>`;
  return adminPage(ctx, { title: view.title, active, body, csrf: view.csrf, setCookie: view.setCookie });
}

/** Readable at 1280 px and at 390 px: tables scroll inside their own box, never the page. */
export const adminStylesheet = `
body.admin main{max-width:72rem;margin:1.5rem auto;padding:1.5rem 2rem}
.admin-bar{background:#1c1917;color:#fff;padding:.5rem 1.5rem;display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;align-items:center}
.admin-bar a{color:#fff;text-decoration:none}
.admin-bar .brand{font-weight:600}
.admin-bar ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.admin-bar a[aria-current=page]{text-decoration:underline;text-underline-offset:.3em}
.notice{background:#ecfdf5;border:1px solid #a7f3d0;border-radius:6px;padding:.5rem .75rem}
.table-wrap{overflow-x:auto;margin:1rem 0}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e7e5e4;vertical-align:top}
td code{font-size:.85rem}
form.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:1rem 0}
form.search label{margin:0;flex:1 1 12rem}
form.search button{margin:0}
.actions{display:flex;flex-wrap:wrap;gap:.25rem}
.actions form{display:inline;margin:0}
.actions button,.actions .button{margin:0;padding:.25rem .75rem;font-size:.9rem}
a.button{display:inline-block;padding:.5rem 1.25rem;margin:.5rem .5rem 0 0;border-radius:6px;text-decoration:none}
a.button.secondary,button.secondary{background:#e7e5e4;color:#1c1917}
button.danger{background:#b91c1c}
.badge{display:inline-block;padding:0 .4rem;border-radius:4px;background:#e7e5e4;font-size:.8rem}
.badge.warn{background:#fee2e2;color:#991b1b}
.chart svg{display:block;width:100%;max-width:40rem;height:auto}
.chart .num{text-align:right}
ul.periods{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
ul.periods a[aria-current]{font-weight:600;text-decoration:none}
@media (max-width:40rem){body.admin main{margin:0;padding:1rem}.admin-bar{padding:.5rem 1rem}}
`;
