// <node> (ty 14) over HTTP, and the link between an <AE>'s nodeLink and the node's hostedAELinks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;
const ADMIN = 'CAdmin';
const nod = (reply: { body: Attrs | undefined }): Attrs => reply.body?.['m2m:nod'] as Attrs;
const ae = (reply: { body: Attrs | undefined }): Attrs => reply.body?.['m2m:ae'] as Attrs;

describe('node over HTTP', () => {
  let t: TestCse;
  before(async () => {
    t = await startTestCse();
  });
  after(() => t.close());

  async function createNode(rn: string, extra: Attrs = {}): Promise<Attrs> {
    const reply = await t.client.create('/cse-in', 14, { 'm2m:nod': { rn, ni: `urn:dev:${rn}`, ...extra } }, ADMIN);
    assert.equal(reply.rsc, 2001, reply.text);
    return nod(reply);
  }
  const hael = async (rn: string): Promise<unknown> => nod(await t.client.retrieve(`/cse-in/${rn}`, ADMIN)).hael;

  it('creates, retrieves, updates, discovers and deletes a node', async () => {
    const created = await createNode('gateway', { nty: 2, mgca: ['coap://192.0.2.1'] });
    assert.equal(created.ty, 14);
    assert.equal(created.ni, 'urn:dev:gateway');
    const updated = await t.client.update('/cse-in/gateway', { 'm2m:nod': { lbl: ['site/a'], ni: 'urn:dev:renamed' } }, ADMIN);
    assert.equal(updated.rsc, 2004, updated.text);
    assert.deepEqual(nod(updated).lbl, ['site/a']);
    const found = await t.client.retrieve('/cse-in?fu=1&ty=14&lbl=site/a', ADMIN);
    assert.deepEqual(found.body?.['m2m:uril'], ['cse-in/gateway']);
    assert.equal((await t.client.delete('/cse-in/gateway', ADMIN)).rsc, 2002);
    assert.equal((await t.client.retrieve('/cse-in/gateway', ADMIN)).rsc, 4004);
  });

  it('refuses a node without nodeID, with an empty hostedAELinks, or with read-only attributes, naming the attribute', async () => {
    const cases: Array<[Attrs, string]> = [
      [{ rn: 'noNi' }, 'ni'],
      [{ rn: 'emptyHael', ni: 'x', hael: [] }, 'hael'],
      [{ rn: 'withNid', ni: 'x', nid: 'net' }, 'nid'],
      [{ rn: 'unknown', ni: 'x', btl: 3 }, 'btl'],
    ];
    for (const [content, attribute] of cases) {
      const reply = await t.client.create('/cse-in', 14, { 'm2m:nod': content }, ADMIN);
      assert.equal(reply.rsc, 4000, `${attribute}: ${reply.text}`);
      assert.match(String(reply.body?.['m2m:dbg']), new RegExp(`'${attribute}'`));
      assert.equal((await t.client.retrieve(`/cse-in/${String(content.rn)}`, ADMIN)).rsc, 4004);
    }
  });

  it("keeps an AE's nodeLink and the node's hostedAELinks consistent through registration, moves and deletions", async () => {
    const first = await createNode('first', { hael: ['Chosted'] });
    const second = await createNode('second');
    // Registration with a link: the node lists the AE once, even when it named it already.
    await t.client.registerAe('hosted', { nl: first.ri });
    assert.deepEqual(await hael('first'), ['Chosted']);
    // A move takes the AE off the old node (whose hael goes with its last AE) and onto the new one.
    const moved = await t.client.update('/cse-in/hosted', { 'm2m:ae': { nl: second.ri } }, 'Chosted');
    assert.equal(moved.rsc, 2004, moved.text);
    assert.equal(await hael('first'), undefined);
    assert.deepEqual(await hael('second'), ['Chosted']);
    // Deleting the node clears the AE's link.
    assert.equal((await t.client.delete('/cse-in/second', ADMIN)).rsc, 2002);
    assert.equal(ae(await t.client.retrieve('/cse-in/hosted', 'Chosted')).nl, undefined);
    // Linking again and then deregistering takes the AE off the node.
    assert.equal((await t.client.update('/cse-in/hosted', { 'm2m:ae': { nl: `/id-in/${String(first.ri)}` } }, 'Chosted')).rsc, 2004);
    assert.deepEqual(await hael('first'), ['Chosted']);
    assert.equal((await t.client.update('/cse-in/hosted', { 'm2m:ae': { nl: null } }, 'Chosted')).rsc, 2004);
    assert.equal(await hael('first'), undefined);
    assert.equal((await t.client.update('/cse-in/hosted', { 'm2m:ae': { nl: first.ri } }, 'Chosted')).rsc, 2004);
    assert.equal((await t.client.delete('/cse-in/hosted', ADMIN)).rsc, 2002);
    assert.equal(await hael('first'), undefined);
  });

  it('refuses a nodeLink that names no node, storing nothing', async () => {
    const container = await t.client.registerAe('notANode');
    const refused = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'dangling', api: 'Ndangling', rr: false, srv: ['3'], nl: 'nowhere' } }, 'Cdangling');
    assert.equal(refused.rsc, 4000);
    assert.match(String(refused.body?.['m2m:dbg']), /'nl'/);
    assert.equal((await t.client.retrieve('/cse-in/dangling', ADMIN)).rsc, 4004);
    const toAe = await t.client.update('/cse-in/notANode', { 'm2m:ae': { nl: container } }, container);
    assert.equal(toAe.rsc, 4000, 'an AE is no node');
    assert.equal(ae(await t.client.retrieve('/cse-in/notANode', container)).nl, undefined);
  });

  it('reads and writes a node in XML, hostedAELinks as a list', async () => {
    const headers = { 'X-M2M-Origin': ADMIN, 'X-M2M-RI': 'x', 'X-M2M-RVI': '3', Accept: 'application/xml', 'Content-Type': 'application/xml;ty=14' };
    const body = '<m2m:nod xmlns:m2m="http://www.onem2m.org/xml/protocols" rn="xmlNode"><ni>urn:dev:xml</ni><hael>Cone Ctwo</hael><nty>3</nty></m2m:nod>';
    const reply = await fetch(`${t.url}/cse-in`, { method: 'POST', headers, body });
    assert.equal(reply.headers.get('x-m2m-rsc'), '2001');
    assert.match(await reply.text(), /<m2m:nod [^>]*rn="xmlNode"/);
    const stored = nod(await t.client.retrieve('/cse-in/xmlNode', ADMIN));
    assert.deepEqual(stored.hael, ['Cone', 'Ctwo']);
    assert.equal(stored.nty, 3);
  });
});
