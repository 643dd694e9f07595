/**
 * Runs the official MCP conformance suite's authorization-server scenarios
 * (`authorization-server-metadata-endpoint`, `authorization-code-grant`) against `gatehouse serve`,
 * with the sign-in and consent step driven by headless Chromium.
 *
 * Everything stays on loopback: a fresh data folder, a user and a public client registered with
 * the CLI for the suite's callback `http://127.0.0.1:<port>/callback`, the server on a free port.
 *
 *   node conformance/authorization/run.ts        # exits with the suite's status
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launchChromium, signInAndConsent } from '../../e2e/helpers/browser.ts';
import { addClient, addUser, serve } from '../../e2e/helpers/gatehouse-cli.ts';
import { freePort } from '../../e2e/helpers/loopback.ts';
import { tempDir } from '../../e2e/helpers/temp.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
// The `authorization` command arrived in 0.2.x; packages/client pins it, the root may still hold 0.1.x.
export const conformanceBin = `${root}node_modules/.bin/conformance`;

const USERNAME = 'conformance';
const PASSWORD = 'conformance-password-1';

export interface ConformanceRun {
  /** The suite's exit code: 0 when every scenario passed. */
  code: number;
  output: string;
  issuer: string;
}

/** Runs both scenarios once; never throws for a failing suite (the caller reads `code`). */
export async function runAuthorizationConformance(): Promise<ConformanceRun> {
  const data = await tempDir('gatehouse-conformance-');
  const port = await freePort();
  const callback = `http://127.0.0.1:${port}/callback`;
  await addUser(data.dir, USERNAME, PASSWORD);
  const client = await addClient(data.dir, { name: 'MCP conformance suite', redirectUris: [callback] });
  const server = await serve(data.dir);
  const browser = await launchChromium();
  try {
    const suite = spawn(
      conformanceBin,
      ['authorization', '--url', server.issuer, '--client-id', client.client_id, '--port', String(port)],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    let driving: Promise<unknown> | undefined;
    const onData = (d: Buffer) => {
      output += d;
      // The suite prints the authorization URL on a line of its own and waits for the callback.
      const url = new RegExp(`^${server.issuer.replace(/[.]/g, '\\.')}/oauth/authorize\\?\\S+$`, 'm').exec(
        output,
      )?.[0];
      if (url && !driving) {
        driving = (async () => {
          const page = await browser.newPage();
          try {
            await signInAndConsent(page, url, {
              username: USERNAME,
              password: PASSWORD,
              redirectPrefix: callback,
            });
          } finally {
            await page.close();
          }
        })().catch((err) => {
          output += `\n[browser] ${(err as Error).message}\n`;
          suite.kill('SIGTERM');
        });
      }
    };
    suite.stdout.on('data', onData);
    suite.stderr.on('data', onData);
    const killOnExit = () => suite.kill('SIGKILL');
    process.once('exit', killOnExit);
    const code = await new Promise<number>((resolve) => suite.once('close', (c) => resolve(c ?? 1)));
    process.off('exit', killOnExit);
    await driving;
    return { code, output, issuer: server.issuer };
  } finally {
    await browser.close();
    await server.stop();
    await data.remove();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { code, output } = await runAuthorizationConformance();
  process.stdout.write(output);
  process.exitCode = code;
}
