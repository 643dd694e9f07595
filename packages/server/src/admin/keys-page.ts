import type { Router } from '@gatehouse/core';
import type { Context } from '../context.ts';
import { html } from '../interaction/html.ts';
import { redirect } from '../interaction/responses.ts';
import { KEY_PROPAGATION_DELAY, keyStatus, rotateSigningKeys } from '../tokens/rotate-keys.ts';
import { adminCsrf, adminForm, confirmed, requireAdmin } from './auth.ts';
import { adminPage, confirmPage } from './layout.ts';
import { utcTime } from './time.ts';

export const KEYS_PATH = '/admin/keys';
const ROTATE_PATH = '/admin/keys/rotate';

/** `/admin/keys`: the signing keys and their lifecycle; `/admin/keys/rotate`: rotate, after confirmation. */
export function addKeysRoutes(router: Router, ctx: Context): void {
  router
    .add(KEYS_PATH, { GET: (request) => showKeys(ctx, request) }, { page: true })
    .add(
      ROTATE_PATH,
      { GET: (request) => confirmRotation(ctx, request), POST: (request) => rotate(ctx, request) },
      { page: true },
    );
}

const STATUS_TEXT = new Map([
  ['pending', 'Published, signs soon'],
  ['signing', 'Signing'],
  ['retiring', 'Retired, still verifies'],
  ['expired', 'Unpublished'],
]);

/** `GET /admin/keys`: every key with where it is in its life; private halves are never shown. */
async function showKeys(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const now = ctx.now();
  const keys = (await ctx.store.listSigningKeys()).sort((a, b) => b.created_at - a.created_at);
  const rows = keys.map((k) => {
    const status = keyStatus(k, now);
    return html`<tr data-kid="${k.kid}"><td><code>${k.kid}</code></td><td>${k.alg}</td>
<td><span class="badge${status === 'signing' ? '' : ' warn'}">${STATUS_TEXT.get(status) ?? status}</span></td>
<td>${utcTime(k.created_at)}</td><td>${utcTime(k.active_from)}</td><td>${utcTime(k.retired_at)}</td><td>${utcTime(k.expires_at)}</td></tr>`;
  });
  const csrf = adminCsrf(ctx, request);
  const body = html`<p>Access tokens are signed with the key marked Signing. Rotating publishes a new key at once; it
signs from ${KEY_PROPAGATION_DELAY / 60} minutes later, when every server and cached key set has it, and the old key stays
published until every token it signed has expired, so no token breaks.</p>
<p><a class="button" href="${ROTATE_PATH}">Rotate the signing key</a></p>
<div class="table-wrap"><table>
<thead><tr><th>Key id</th><th>Algorithm</th><th>State</th><th>Created</th><th>Signs from</th><th>Signs until</th><th>Published until</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
  const notice = new URL(request.url).searchParams.has('rotated')
    ? `Key rotated: the new key signs from ${KEY_PROPAGATION_DELAY / 60} minutes from now.`
    : undefined;
  return adminPage(ctx, {
    title: 'Signing keys',
    active: 'keys',
    body,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
    notice,
  });
}

function rotationQuestion(ctx: Context, request: Request): Response {
  const csrf = adminCsrf(ctx, request);
  return confirmPage(ctx, {
    title: 'Rotate the signing key',
    question: `A new signing key will be published now and sign from ${KEY_PROPAGATION_DELAY / 60} minutes later; the current key stops signing then and is unpublished once its tokens have expired.`,
    action: ROTATE_PATH,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
    fields: {},
    cancel: KEYS_PATH,
  });
}

/** `GET /admin/keys/rotate`: what rotating does, Confirm / Cancel. */
async function confirmRotation(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  return rotationQuestion(ctx, request);
}

/**
 * `POST /admin/keys/rotate` with `confirm=yes`: `rotateSigningKeys` (as `gatehouse keys rotate`),
 * then this instance reloads its key ring so its JWKS publishes the new key at once; other
 * instances pick it up within their 30 s reload, well inside the propagation delay.
 */
async function rotate(ctx: Context, request: Request): Promise<Response> {
  const posted = await adminForm(ctx, request);
  if (posted instanceof Response) return posted;
  if (!confirmed(posted.form)) return rotationQuestion(ctx, request);
  const now = ctx.now();
  const { created, retired } = await rotateSigningKeys(ctx.store, ctx.secrets, now);
  await ctx.keys.load(now);
  ctx.audit({
    type: 'admin.keys_rotated',
    actor: posted.admin.id,
    detail: { kid: created.kid, active_from: created.active_from, retired: retired.map((k) => k.kid) },
  });
  return redirect(`${KEYS_PATH}?rotated`);
}
