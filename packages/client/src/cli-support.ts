import { loopbackInteraction } from './interaction/loopback.ts';
import { OAuthClient } from './session.ts';
import { FileTokenStore } from './store/file.ts';
import type { TokenStore } from './store/types.ts';

/** Set to `1` to only print the authorization URL (remote shells, CI, tests driving their own browser). */
export const NO_BROWSER_ENV = 'GATEHOUSE_NO_BROWSER';

/**
 * The OAuthClient the `gatehouse` CLI commands use: the encrypted file store, the loopback
 * redirect with the system browser (opened without a shell; the URL is printed to stderr too, and
 * only printed when `GATEHOUSE_NO_BROWSER=1`), and pre-registered credentials or a CIMD URL from
 * the environment (`GATEHOUSE_CLIENT_ID`, `GATEHOUSE_CLIENT_SECRET`, `GATEHOUSE_CLIENT_METADATA_URL`).
 */
export function cliOAuthClient(
  resource: string,
  options: { env?: NodeJS.ProcessEnv; store?: TokenStore; print?: (m: string) => void } = {},
): OAuthClient {
  const env = options.env ?? process.env;
  const print = options.print ?? ((m: string) => process.stderr.write(`${m}\n`));
  return new OAuthClient({
    resource,
    store: options.store ?? new FileTokenStore({ env }),
    interaction: loopbackInteraction({
      print,
      ...(env[NO_BROWSER_ENV] === '1' ? { open: () => false } : {}),
    }),
    registration: {
      ...(env.GATEHOUSE_CLIENT_ID
        ? {
            preRegistered: [
              {
                client_id: env.GATEHOUSE_CLIENT_ID,
                ...(env.GATEHOUSE_CLIENT_SECRET ? { client_secret: env.GATEHOUSE_CLIENT_SECRET } : {}),
              },
            ],
          }
        : {}),
      ...(env.GATEHOUSE_CLIENT_METADATA_URL ? { clientMetadataUrl: env.GATEHOUSE_CLIENT_METADATA_URL } : {}),
      clientMetadata: { client_name: 'Gatehouse CLI' },
    },
  });
}

/** One line for a CLI error: the stable code and a message that holds no secret. */
export function describeError(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'reauthorization_required') return `${message}\nRun: gatehouse login <mcp-url>`;
  return typeof code === 'string' ? `${message} (${code})` : message;
}
