import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Where screenshots go (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/**
 * `false` when Chromium is installed; otherwise the message to skip with. On CI (CI=true) a
 * missing browser is an error, so the browser tests can never silently stop running there.
 */
export function browserSkipReason(): string | false {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.CI === 'true') {
    throw new Error(`${CHROMIUM} is missing; CI must install it (apt-get install -y chromium)`);
  }
  return `chromium not found at ${CHROMIUM}; install it with: apt-get install -y chromium`;
}

/** Debian's Chromium, headless, with everything that would phone home switched off. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = `${ARTIFACTS}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Drives the sign-in and consent pages as a person would: fills the form, clicks "Sign in", then
 * (unless consent is remembered) waits for the consent screen, lets `onConsent` inspect it, and
 * clicks the decision. Resolves once the browser has been sent to `redirectPrefix`.
 */
export async function signInAndConsent(
  page: Page,
  authorizationUrl: string,
  options: {
    username: string;
    password: string;
    redirectPrefix: string;
    decision?: 'Approve' | 'Deny';
    onConsent?: (page: Page) => Promise<void>;
  },
): Promise<string> {
  const reached = page.waitForURL((url) => url.href.startsWith(options.redirectPrefix), { timeout: 20_000 });
  await page.goto(authorizationUrl);
  if (!page.url().startsWith(options.redirectPrefix)) {
    if (await page.locator('input[name="password"]').count()) {
      await page.fill('input[name="username"]', options.username);
      await page.fill('input[name="password"]', options.password);
      await Promise.all([page.waitForLoadState('load'), page.click('button[type="submit"]')]);
    }
    if (!page.url().startsWith(options.redirectPrefix)) {
      await page.waitForSelector('button[value="approve"]', { timeout: 10_000 });
      await options.onConsent?.(page);
      await page.click(`button:text-is("${options.decision ?? 'Approve'}")`);
    }
  }
  await reached;
  return page.url();
}
