// The web console in Debian's Chromium (playwright-core): sign in, browse, create, watch live, the why view,
// what the signed-in originator may not see, and a stored XSS payload rendered inert.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserUnavailable, expandNode, launchBrowser, openPath, selectNode, signInThroughPage, type Browser } from './browser.js';
import { XSS_LABELS, seedDemo, startConsoleCse, type ConsoleCse } from './fixture.js';

const skip = browserUnavailable();
if (skip) process.stdout.write(`${skip}\n`);

describe('web console in a browser', { skip, timeout: 120_000 }, () => {
  let t: ConsoleCse;
  let browser: Browser;
  before(async () => {
    t = await startConsoleCse();
    await seedDemo(t);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A page with a guard that notes any script the payloads could have run. */
  async function page(): Promise<Page> {
    // Each test is its own user: no session cookie left from the one before.
    await browser.context.clearCookies();
    const p = await browser.newPage();
    const errors: string[] = [];
    p.on('pageerror', (err) => errors.push(err.message));
    return p;
  }

  it('refuses a wrong token on the sign-in page and shows why', async () => {
    const p = await page();
    await p.goto(`${t.url}/console/`);
    await p.locator('#token').fill('not-a-token');
    await p.locator('#sign-in-submit').click();
    await p.locator('#sign-in-problem', { hasText: 'not valid' }).waitFor();
    assert.equal(await p.locator('#tree').count(), 0);
    await p.close();
  });

  it('signs in, browses the tree, creates a container and an instance with the API answers', async () => {
    const p = await page();
    await signInThroughPage(p, t.url, t.mint('Calice'));
    assert.match(await p.locator('#who').innerText(), /Calice · sign-in token \(not authenticated\)/);
    await expandNode(p, '/cse-in');
    await expandNode(p, '/cse-in/alice');
    for (const name of ['data', 'private', 'labelled']) await p.locator(`button.name[data-path="/cse-in/alice/${name}"]`).waitFor();
    await selectNode(p, '/cse-in/alice/data');
    await p.locator('tr[data-attribute="cni"] td', { hasText: 'currentNrOfInstances' }).waitFor();
    // A container under alice, then an instance in it, through the Create tab.
    await selectNode(p, '/cse-in/alice');
    await p.locator('#tab-create').click();
    await p.locator('#create-body').fill(JSON.stringify({ 'm2m:cnt': { rn: 'fromBrowser' } }));
    await p.locator('#create-submit').click();
    await p.locator('#create-form .answer.ok', { hasText: '2001 CREATED' }).waitFor();
    await p.locator('button.name[data-path="/cse-in/alice/fromBrowser"]').waitFor();
    // The API's own validation message for a bad request.
    await p.locator('#create-body').fill(JSON.stringify({ 'm2m:cnt': { rn: 'bad', mni: 'many' } }));
    await p.locator('#create-submit').click();
    const refused = await p.locator('#create-form .answer.refused').innerText();
    assert.match(refused, /^Create: 4000 BAD_REQUEST — .*mni/);
    await selectNode(p, '/cse-in/alice/fromBrowser');
    await p.locator('#tab-create').click();
    await p.locator('#create-type').selectOption('4');
    await p.locator('#create-body').fill(JSON.stringify({ 'm2m:cin': { cnf: 'text/plain:0', con: 'typed in a browser' } }));
    await p.locator('#create-submit').click();
    await p.locator('#create-form .answer.ok', { hasText: '2001 CREATED' }).waitFor();
    const stored = await t.client.retrieve('/cse-in/alice/fromBrowser/la', 'Calice');
    assert.equal((stored.body?.['m2m:cin'] as Record<string, unknown>).con, 'typed in a browser');
    await p.close();
  });

  it("shows each child's resource type in the tree from the one discovery answer (rcn=6), no request per child", async () => {
    const p = await page();
    await signInThroughPage(p, t.url, t.mint('Calice'));
    await expandNode(p, '/cse-in');
    await p.locator('button.name[data-path="/cse-in/alice"]').waitFor();
    // Every oneM2M request the page makes from now on goes through /console/api/request: note their paths.
    const sent: string[] = [];
    p.on('request', (r) => {
      if (r.url().endsWith('/console/api/request')) sent.push(String((r.postDataJSON() as { path?: unknown }).path));
    });
    await expandNode(p, '/cse-in/alice');
    const typeOf = (path: string) => p.locator('li.node', { has: p.locator(`> button.name[data-path="${path}"]`) }).locator('> span.node-type');
    await typeOf('/cse-in/alice/labelled').waitFor();
    assert.equal(await typeOf('/cse-in/alice/data').innerText(), 'container');
    assert.equal(await typeOf('/cse-in/alice/data').getAttribute('data-ty'), '3');
    assert.equal(await typeOf('/cse-in/alice/acp').innerText(), 'accessControlPolicy');
    assert.equal(await typeOf('/cse-in/alice').innerText(), 'applicationEntity');
    assert.equal(await typeOf('/cse-in').innerText(), 'CSEBase');
    // One discovery for the opened node, asking for child references; nothing per child.
    assert.deepEqual(sent, ['/cse-in/alice?fu=1&lvl=1&rcn=6&lim=50&ofst=0']);
    await p.close();
  });

  it('pages the children of a node: the first page, then more on demand', async () => {
    await t.client.create('/cse-in/alice', 3, { 'm2m:cnt': { rn: 'many' } }, 'Calice');
    for (let i = 0; i < 60; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => t.client.create('/cse-in/alice/many', 3, { 'm2m:cnt': { rn: `n${String(i + j).padStart(2, '0')}` } }, 'Calice')));
    }
    const p = await page();
    await signInThroughPage(p, t.url, t.mint('Calice'));
    await expandNode(p, '/cse-in');
    await expandNode(p, '/cse-in/alice');
    await expandNode(p, '/cse-in/alice/many');
    const children = p.locator('li.node', { has: p.locator('> button.name[data-path="/cse-in/alice/many"]') }).locator('> ul.children > li.node');
    await p.locator('button.more').waitFor();
    assert.equal(await children.count(), 50, 'one page of 50');
    await p.locator('button.more').click();
    await p.locator('button.name[data-path="/cse-in/alice/many/n59"]').waitFor();
    assert.equal(await children.count(), 60);
    assert.equal(await p.locator('button.more').count(), 0);
    await p.close();
  });

  it('shows a notification arrive live, and removes its subscription when the view closes', async () => {
    const p = await page();
    await signInThroughPage(p, t.url, t.mint('Calice'));
    await expandNode(p, '/cse-in');
    await expandNode(p, '/cse-in/alice');
    await selectNode(p, '/cse-in/alice/data');
    await p.locator('#tab-live').click();
    await p.locator('#live-start').click();
    await p.locator('#live-state').waitFor();
    const subs = await t.client.retrieve('/cse-in/alice/data?fu=1&ty=23', 'CAdmin');
    assert.equal((subs.body?.['m2m:uril'] as unknown[]).length, 1, 'a real subscription');
    await t.client.create('/cse-in/alice/data', 4, { 'm2m:cin': { con: 'arrived live' } }, 'Calice');
    await p.locator('#live-arrivals li', { hasText: 'arrived live' }).waitFor();
    assert.match(await p.locator('#live-arrivals li').first().innerText(), /child created: m2m:cin/);
    // Leaving the view deletes the subscription.
    await p.locator('#tab-attributes').click();
    let left: unknown[] = ['pending'];
    for (let i = 0; i < 100 && left.length > 0; i++) {
      await p.waitForTimeout(50);
      left = ((await t.client.retrieve('/cse-in/alice/data?fu=1&ty=23', 'CAdmin')).body?.['m2m:uril'] as unknown[]) ?? [];
    }
    assert.deepEqual(left, []);
    await p.close();
  });

  it("explains a denied request to the admin, and not another originator's to who may read the policy", async () => {
    const alice = await page();
    await signInThroughPage(alice, t.url, t.mint('Calice'));
    await openPath(alice, '/cse-in/alice/data');
    await alice.locator('#tab-access').click();
    await alice.locator('#access-view li.policy .rules').waitFor();
    await alice.locator('#why-originator').fill('Cbob');
    await alice.locator('#why-submit').click();
    await alice.locator('#why-result', { hasText: 'Not shown' }).waitFor();
    await alice.close();
    const p = await page();
    await signInThroughPage(p, t.url, t.mint('CAdmin'));
    await expandNode(p, '/cse-in');
    await expandNode(p, '/cse-in/alice');
    await selectNode(p, '/cse-in/alice/data');
    await p.locator('#tab-access').click();
    await p.locator('#access-view li.policy .rules').waitFor();
    await p.locator('#why-originator').fill('Cbob');
    await p.locator('#why-operation').selectOption('UPDATE');
    await p.locator('#why-submit').click();
    const text = await p.locator('#why-result').innerText();
    assert.match(text, /DENIED to Cbob \(UPDATE\) because no privileges rule of the linked accessControlPolicies grants this operation/);
    await p.locator('#why-operation').selectOption('RETRIEVE');
    await p.locator('#why-submit').click();
    await p.locator('#why-result', { hasText: /GRANTED to Cbob \(RETRIEVE\) — basis acp by policy \S+ rule 0/ }).waitFor();
    await p.close();
  });

  it('does not show bob what bob may not see', async () => {
    const p = await page();
    await signInThroughPage(p, t.url, t.mint('Cbob'));
    assert.equal(await p.locator('#view-events').count(), 0, 'no security events for a non-admin');
    await expandNode(p, '/cse-in');
    await p.locator('#tree button.name[data-path="/cse-in/bob"]').waitFor();
    assert.equal(await p.locator('#tree button.name[data-path="/cse-in/alice"]').count(), 0, "alice's AE is not discovered for bob");
    // Typed in by hand, alice's private container answers what the API answers bob.
    await openPath(p, '/cse-in/alice/private');
    await p.locator('#resource-view .answer.refused', { hasText: '4103 ORIGINATOR_HAS_NO_PRIVILEGE' }).waitFor();
    assert.equal(await p.locator('#attributes').count(), 0);
    // The container the policy lets bob read: its policy stays hidden, and so does the why of a decision.
    await openPath(p, '/cse-in/alice/data');
    await p.locator('#attributes').waitFor();
    await p.locator('#tab-access').click();
    await p.locator('#access-view li.policy .refused', { hasText: '4103' }).waitFor();
    await p.locator('#why-originator').fill('Calice');
    await p.locator('#why-submit').click();
    await p.locator('#why-result', { hasText: 'Not shown' }).waitFor();
    assert.doesNotMatch(await p.locator('#why-result').innerText(), /GRANTED|DENIED/);
    assert.doesNotMatch(await p.locator('#access-view').innerText(), /acor|Calice.*63/);
    await p.close();
  });

  it('renders an XSS payload stored in labels and content as inert text', async () => {
    const p = await page();
    const violations: string[] = [];
    p.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await signInThroughPage(p, t.url, t.mint('Calice'));
    await expandNode(p, '/cse-in');
    await expandNode(p, '/cse-in/alice');
    await selectNode(p, '/cse-in/alice/labelled');
    const labels = await p.locator('tr[data-attribute="lbl"] pre').innerText();
    for (const label of XSS_LABELS) assert.ok(labels.includes(label), `the label appears literally: ${labels}`);
    await expandNode(p, '/cse-in/alice/labelled');
    const instance = p.locator('#tree ul.children ul.children ul.children button.name').first();
    await instance.click();
    await p.locator('tr[data-attribute="con"] pre', { hasText: '<svg onload=' }).waitFor();
    assert.equal(await p.locator('#resource-view img, #resource-view script, #resource-view svg').count(), 0, 'no element was made from the payload');
    assert.equal(await p.evaluate('window.__xss'), undefined, 'no payload ran');
    assert.deepEqual(violations, [], 'nothing even tried to run inline');
    await p.close();
  });

  it('shows the admin the security events, including a refused request', async () => {
    await t.client.retrieve('/cse-in/alice/private', 'Cbob');
    const p = await page();
    await signInThroughPage(p, t.url, t.mint('CAdmin'));
    await p.locator('#view-events').click();
    await p.locator('#events-table tr.event.kind-refused', { hasText: 'cse-in/alice/private' }).first().waitFor();
    await p.close();
  });
});
