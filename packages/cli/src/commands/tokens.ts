import { describeError, FileTokenStore } from '@gatehouse/client';

export const USAGE = `Usage: gatehouse tokens

Lists the stored logins, per MCP server: issuer, client, scope, expiry and whether a refresh
token is kept. Never prints a token or secret.`;

/** `gatehouse tokens`: what is stored, per issuer and resource. Never prints a token or secret. */
export async function run(_args: string[]): Promise<number> {
  try {
    const list = await new FileTokenStore().listTokens();
    if (!list.length) {
      process.stdout.write('No stored tokens.\n');
      return 0;
    }
    for (const t of list) {
      const expires = t.expires_at ? new Date(t.expires_at).toISOString() : 'unknown';
      process.stdout.write(
        `${t.resource}\n  issuer:  ${t.issuer}\n  client:  ${t.client_id}\n  scope:   ${t.scope ?? '(none)'}\n` +
          `  expires: ${expires}\n  refresh: ${t.refresh_token ? 'yes' : 'no'}\n`,
      );
    }
    return 0;
  } catch (err) {
    process.stderr.write(`cannot read the token store: ${describeError(err)}\n`);
    return 1;
  }
}
