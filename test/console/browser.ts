// Debian's Chromium driven by playwright-core, for the console's browser tests and its screenshots.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.WARDEN_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserUnavailable(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is absent (apt-get install chromium): the console's browser tests are skipped`;
}

export interface Browser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Context options a test may add: client certificates for an HTTPS origin, and with them ignoreHTTPSErrors. */
export type ContextOptions = Pick<NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>, 'clientCertificates' | 'ignoreHTTPSErrors'>;

/** A headless Chromium with a fresh profile, no network of its own (no updates, no sync), bounded timeouts. */
export async function launchBrowser(options: ContextOptions = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'warden-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...options,
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the page, as a user pasting the token does, and waits for the tree. */
export async function signInThroughPage(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.locator('#token').fill(token);
  await page.locator('#sign-in-submit').click();
  await page.locator('#tree').waitFor();
}

/** Opens a node of the tree (its expand button) by path, and waits for its children list. */
export async function expandNode(page: Page, path: string): Promise<void> {
  const node = page.locator('li.node', { has: page.locator(`> button.name[data-path="${path}"]`) });
  const toggle = node.locator('> button.toggle');
  if ((await toggle.getAttribute('aria-label')) === 'expand') await toggle.click();
  await node.locator('> ul.children').waitFor();
}

export async function selectNode(page: Page, path: string): Promise<void> {
  await page.locator(`button.name[data-path="${path}"]`).click();
  await page.locator('#resource-view h2 code', { hasText: path }).waitFor();
  await page.locator('#attributes').waitFor();
}

/** Opens a resource by its path (the address field above the tree). */
export async function openPath(page: Page, path: string): Promise<void> {
  await page.locator('#goto').fill(path);
  await page.locator('#goto-submit').click();
  await page.locator('#resource-view h2 code', { hasText: path }).waitFor();
}
