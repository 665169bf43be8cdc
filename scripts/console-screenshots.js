// Screenshots of the web console's main views, into docs/console/ (run: npm run console-screenshots). Uses the
// browser tests' helpers: a test CSE on an ephemeral loopback port with the demo tree, Debian's Chromium.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandNode, launchBrowser, selectNode, signInThroughPage } from '../dist/test/console/browser.js';
import { seedDemo, startConsoleCse } from '../dist/test/console/fixture.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'console');
mkdirSync(out, { recursive: true });
const t = await startConsoleCse();
const browser = await launchBrowser();
try {
  await seedDemo(t);
  // Something for the security events view to show.
  await t.client.retrieve('/cse-in/alice/private', 'Cbob');
  await t.client.retrieve('/cse-in', 'Cnobody');
  const page = await browser.newPage();
  const shot = (name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: false });

  await page.goto(`${t.url}/console/`);
  await page.locator('#token').waitFor();
  await shot('sign-in');

  await signInThroughPage(page, t.url, t.mint('Calice'));
  await expandNode(page, '/cse-in');
  await expandNode(page, '/cse-in/alice');
  await expandNode(page, '/cse-in/alice/data');
  await selectNode(page, '/cse-in/alice/data');
  await shot('resource');

  await page.locator('#tab-create').click();
  await page.locator('#create-body').fill(JSON.stringify({ 'm2m:cnt': { rn: 'bad', mni: 'many' } }, null, 2));
  await page.locator('#create-submit').click();
  await page.locator('#create-form .answer').waitFor();
  await shot('create-refused');

  await page.locator('#tab-live').click();
  await page.locator('#live-start').click();
  await page.locator('#live-state').waitFor();
  for (const con of ['21.7', '21.9']) await t.client.create('/cse-in/alice/data', 4, { 'm2m:cin': { cnf: 'text/plain:0', con } }, 'Calice');
  await page.locator('#live-arrivals li', { hasText: '21.9' }).waitFor();
  await shot('live');

  await page.locator('#tab-access').click();
  await page.locator('#access-view li.policy .rules').waitFor();
  await page.locator('#why-originator').fill('Cbob');
  await page.locator('#why-operation').selectOption('UPDATE');
  await page.locator('#why-submit').click();
  await page.locator('#why-result').scrollIntoViewIfNeeded();
  await shot('why-denied');

  await selectNode(page, '/cse-in/alice/labelled');
  await shot('xss-inert');

  await browser.context.clearCookies();
  await signInThroughPage(page, t.url, t.mint('CAdmin'));
  await page.locator('#view-events').click();
  await page.locator('#events-table').waitFor();
  await shot('security-events');
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
  await t.close();
}
