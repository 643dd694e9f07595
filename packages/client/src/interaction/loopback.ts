import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientError } from '../errors.ts';
import { openBrowser } from './browser.ts';
import type { AuthorizationInteraction, PendingAuthorization } from './types.ts';

export interface LoopbackInteractionOptions {
  /** Opens the authorization URL; default: the system browser, without a shell. */
  open?: (url: string) => Promise<boolean> | boolean;
  /** Shows a message to the user (the URL, as a fallback); default: stderr. */
  print?: (message: string) => void;
  /** How long to wait for the browser to come back (ms); default 5 minutes. */
  timeoutMs?: number;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>Gatehouse</title>
<p>You can close this window and return to the terminal.</p>`;

/**
 * Native-app authorization: a one-shot HTTP listener on 127.0.0.1 with a random port as the
 * redirect URI, the system browser opened on the authorization URL, the URL printed as well.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 */
export function loopbackInteraction(options: LoopbackInteractionOptions = {}): AuthorizationInteraction {
  const open = options.open ?? openBrowser;
  const print = options.print ?? ((m: string) => process.stderr.write(`${m}\n`));
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  return {
    async begin(): Promise<PendingAuthorization> {
      let onCallback!: (url: URL) => void;
      const callback = new Promise<URL>((resolve) => {
        onCallback = resolve;
      });
      /** The `state` of the request in progress: anything else reaching the port is not our answer. */
      let expectedState: string | null | undefined;
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
        if (req.method !== 'GET' || url.pathname !== '/callback' || expectedState === undefined) {
          res.writeHead(404).end();
          return;
        }
        // Another local page (or a stale tab) must not be able to end or spoil the sign-in in progress.
        if (url.searchParams.get('state') !== expectedState) {
          res
            .writeHead(400, { 'content-type': 'text/plain; charset=utf-8' })
            .end('Unknown authorization response.');
          return;
        }
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          .end(PAGE);
        onCallback(url);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      const close = () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        });
      return {
        redirectUri: `http://127.0.0.1:${port}/callback`,
        async complete(authorizationUrl: URL): Promise<URL> {
          expectedState = authorizationUrl.searchParams.get('state');
          const opened = await open(authorizationUrl.href);
          print(
            opened
              ? `Opened your browser to authorize. If it did not open, visit:\n${authorizationUrl.href}`
              : `Open this URL in your browser to authorize:\n${authorizationUrl.href}`,
          );
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new ClientError('authorization_failed', 'timed out waiting for the browser')),
              timeoutMs,
            );
          });
          try {
            return await Promise.race([callback, timeout]);
          } finally {
            clearTimeout(timer);
          }
        },
        close,
      };
    },
  };
}
