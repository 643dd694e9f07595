import type { ConsentChoice, ConsentChoices } from './consent-choices.ts';
import type { ConsentConnection } from './consent-connections.ts';
import { html, type SafeHtml } from './html.ts';
import { layout } from './pages.ts';

export interface ConsentView extends ConsentChoices {
  action: string;
  csrf: string;
  clientName: string;
  /** The verified domain for a CIMD client; undefined for clients whose identity is unverified. */
  verifiedDomain?: string | undefined;
  /** Registered by this server's administrator (not self-registered). */
  preregistered?: boolean;
  redirectHost: string;
  username: string;
  resource: string;
  /** Upstream accounts the server uses: each one not connected gets a Connect link. */
  connections?: readonly ConsentConnection[];
  /** Shown above the choices, e.g. after an approval with nothing ticked. */
  error?: string | undefined;
}

/** "list_files, read_file and 12 more": the tools a scope unlocks, for its label. */
function toolNames(choice: ConsentChoice): string {
  if (choice.tools.length === 0) return '';
  if (choice.moreTools > 0) return `Tools: ${choice.tools.join(', ')} and ${choice.moreTools} more`;
  const last = choice.tools.length - 1;
  return `Tools: ${choice.tools.length > 1 ? `${choice.tools.slice(0, last).join(', ')} and ` : ''}${choice.tools[last]}`;
}

/**
 * One checkbox with its label. A required scope is shown ticked and disabled, and submitted by a
 * hidden field (a disabled control is never submitted); the server grants it either way.
 */
function choiceItem(choice: ConsentChoice, id: string): SafeHtml {
  const tools = toolNames(choice);
  const box = choice.required
    ? html`<input type="checkbox" id="${id}" checked disabled><input type="hidden" name="scope" value="${choice.name}">`
    : html`<input type="checkbox" id="${id}" name="scope" value="${choice.name}"${choice.checked ? html` checked` : ''}>`;
  return html`<li data-scope="${choice.name}"><div class="choice">${box}<label for="${id}"><span class="sentence">${choice.description}</span>${
    choice.required ? html` <span class="required">(required)</span>` : ''
  }${tools ? html`<span class="tools">${tools}</span>` : ''}</label></div>${
    choice.children.length
      ? html`<ul class="choices">${choice.children.map((c, i) => choiceItem(c, `${id}-${i}`))}</ul>`
      : ''
  }</li>`;
}

/** One upstream account the server uses: connected, or a link to connect it now. */
function connectionItem(c: ConsentConnection): SafeHtml {
  const state =
    c.state === 'active'
      ? html`<span class="connected">connected</span>`
      : c.state === 'broken'
        ? html`stopped working. <a href="${c.href}">Reconnect your ${c.provider} account</a>`
        : html`<a href="${c.href}">Connect your ${c.provider} account</a>`;
  return html`<li data-connection="${c.provider}" data-state="${c.state}"><strong>${c.provider}</strong>: ${state}</li>`;
}

/**
 * The accounts section: the server calls these services as the user, with the user's own
 * account, so the user can connect them here before approving (or later, from connected apps).
 */
function connectionsSection(connections: readonly ConsentConnection[]): SafeHtml | string {
  if (connections.length === 0) return '';
  return html`<section class="connections" aria-labelledby="connections-heading">
<h2 id="connections-heading">Your accounts this server uses</h2>
<p>It calls these services with your own account. Connect them now, or later from your connected apps; tools that need an account you have not connected will say so.</p>
<ul>
${connections.map(connectionItem)}
</ul>
</section>`;
}

/**
 * The consent screen: who asks, what it may already do (step-up), a checkbox per new scope, where
 * the answer goes. Works without script, by keyboard (native controls, labels bound to them) and
 * with a screen reader (the choices are a fieldset with a legend).
 */
export function consentPage(view: ConsentView): string {
  const stepUp = view.already.length > 0;
  return layout(
    'Authorize access',
    html`<h1>Authorize <span class="client-name">${view.clientName}</span></h1>
${
  view.verifiedDomain
    ? html`<p class="identity verified">Verified: this application is published by <strong>${view.verifiedDomain}</strong>.</p>`
    : view.preregistered
      ? html`<p class="identity verified">Registered by the administrator of this server.</p>`
      : html`<p class="identity unverified">Unverified application: Gatehouse cannot confirm who publishes it. Only continue if you trust it.</p>`
}
<p>Signed in as <strong>${view.username}</strong>.</p>
${view.error ? html`<p class="error" role="alert" id="consent-error">${view.error}</p>` : ''}
${
  stepUp
    ? html`<section class="already" aria-labelledby="already-heading">
<h2 id="already-heading"><span class="client-name">${view.clientName}</span> can already:</h2>
<ul class="scopes granted">
${view.already.map((s) => html`<li data-scope="${s.name}">${s.description}</li>`)}
</ul>
</section>`
    : ''
}
${connectionsSection(view.connections ?? [])}
<form method="post" action="${view.action}">
<input type="hidden" name="csrf" value="${view.csrf}">
<fieldset class="scopes"${view.error ? html` aria-describedby="consent-error"` : ''}>
<legend>${stepUp ? 'It now also asks to:' : 'This application wants to:'}</legend>
<ul class="choices">
${view.offered.map((c, i) => choiceItem(c, `scope-${i}`))}
</ul>
</fieldset>
<p class="resource">on <code>${view.resource}</code></p>
<p class="redirect">After you decide, you will be sent to <strong class="redirect-host">${view.redirectHost}</strong>.</p>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  );
}
