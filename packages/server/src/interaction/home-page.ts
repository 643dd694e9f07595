import { ACCOUNT_HOME, LOGIN_PATH } from './account.ts';
import { html } from './html.ts';
import { layout } from './pages.ts';

/** What the front door shows: this server, and the MCP servers it issues tokens for. */
export interface HomeView {
  /** The issuer identifier (RFC 8414 §2). */
  issuer: string;
  /** The MCP servers, i.e. the resources (RFC 8707) this server issues tokens for. */
  mcpServers: readonly string[];
}

/**
 * `GET /`: says what this server is to someone who opens its address in a browser (who usually
 * arrived from an MCP client's settings): its issuer, the MCP servers to point a client at, where
 * to sign in and see connected apps, and the RFC 8414 metadata for developers. No script; every
 * value is escaped.
 *
 * @example page(homePage({ issuer: ctx.config.issuer, mcpServers: ctx.config.resources }))
 */
export function homePage(view: HomeView): string {
  const metadata = `${view.issuer}/.well-known/oauth-authorization-server`;
  return layout(
    'Authorization server',
    html`<h1>Gatehouse</h1>
<p>An OAuth 2.1 authorization server for MCP servers. Issuer: <code>${view.issuer}</code></p>
<h2>Connect an MCP client</h2>
<p>Point your MCP client at ${view.mcpServers.length === 1 ? 'this address' : 'one of these addresses'}; it finds this server, registers, and sends you here to sign in and approve.</p>
<ul class="links">
${view.mcpServers.map((url) => html`<li><a href="${url}"><code>${url}</code></a></li>`)}
</ul>
<h2>Your account</h2>
<p><a href="${LOGIN_PATH}">Sign in</a> to see the applications you have allowed, and revoke them: <a href="${ACCOUNT_HOME}">Connected apps</a>.</p>
<h2>For developers</h2>
<p><a href="${metadata}">Authorization server metadata</a> (RFC 8414)</p>`,
  );
}
