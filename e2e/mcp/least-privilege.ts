import type { Page } from 'playwright-core';

/** The scopes the least-privilege tests request: listing, the filesystem tools and the database tools. */
export const LISTING_AND_TWO_TOOL_KINDS = 'tools:list tools:execute:filesystem tools:execute:database';

/** On the consent page: untick the permission whose sentence matches `sentence`, as a person would. */
export function untick(sentence: RegExp) {
  return async (page: Page) => {
    await page.getByRole('checkbox', { name: sentence }).uncheck();
  };
}

/**
 * On the connected-apps page (the page is signed in from the authorization): untick the permission
 * whose sentence matches `sentence` for the application `clientName`, save, and wait for the notice.
 */
export async function narrowOnConnectedApps(
  page: Page,
  issuer: string,
  clientName: string,
  sentence: RegExp,
): Promise<void> {
  await page.goto(`${issuer}/account/apps`);
  const app = page.locator('li.app', { hasText: clientName });
  await app.getByRole('checkbox', { name: sentence }).uncheck();
  await app.getByRole('button', { name: 'Save permissions' }).click();
  await page.waitForURL(`${issuer}/account/apps?narrowed`);
}
