// <flexContainer> (ty 28) and <flexContainerInstance> (ty 58) over HTTP: specializations of TS-0023 typed by
// their containerDefinition, instances within mni / mbs, la / ol, discovery, access control, notifications.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type Reply, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;
const FCNT = 28;
const FCI = 58;
const SWITCH = 'org.onem2m.common.moduleclass.binarySwitch';
const TEMPERATURE = 'org.onem2m.common.moduleclass.temperature';
const COLOUR = 'org.onem2m.common.moduleclass.colour';
const under = (reply: Reply, name: string): Attrs => reply.body?.[name] as Attrs;

describe('flexContainer and flexContainerInstance over HTTP', () => {
  let t: TestCse;
  let ae: string;
  before(async () => {
    t = await startTestCse({ 'notifications.maxBackoff': 1, 'notifications.maxAttempts': 3, 'notifications.timeout': 2 });
    ae = await t.client.registerAe('home');
  });
  after(() => t.close());

  it('creates, retrieves, updates and deletes a binarySwitch under its specialization name', async () => {
    const created = await t.client.create('/cse-in/home', FCNT, { 'cod:binSh': { rn: 'switch', cnd: SWITCH, state: false, lbl: ['hall'] } }, ae);
    assert.equal(created.rsc, 2001, created.text);
    const fcnt = under(created, 'cod:binSh');
    assert.equal(fcnt.ty, FCNT);
    assert.equal(fcnt.cnd, SWITCH);
    assert.equal(fcnt.state, false);
    assert.equal(fcnt.st, 0);
    assert.equal(fcnt.cs, 5, 'contentSize: the bytes of the custom attributes ("false")');
    assert.equal(fcnt.cni, undefined, 'no instances without fcied');
    assert.ok(!Object.keys(fcnt).some((k) => k.startsWith('__')), 'internal keys never leave the CSE');

    const updated = await t.client.update('/cse-in/home/switch', { 'cod:binSh': { state: true } }, ae);
    assert.equal(updated.rsc, 2004, updated.text);
    assert.equal(under(updated, 'cod:binSh').state, true);
    assert.equal(under(updated, 'cod:binSh').st, 1);
    assert.equal(under(updated, 'cod:binSh').cs, 4);

    const partial = await t.client.retrieve('/cse-in/home/switch?atrl=state', ae);
    assert.equal(partial.rsc, 2000, partial.text);
    assert.deepEqual(under(partial, 'cod:binSh'), { state: true });

    assert.equal((await t.client.delete('/cse-in/home/switch', ae)).rsc, 2002);
    assert.equal((await t.client.retrieve('/cse-in/home/switch', ae)).rsc, 4004);
  });

  it('checks custom attributes against their specialization: wrong types and unknown names are 4000, nothing stored', async () => {
    assert.equal((await t.client.create('/cse-in/home', FCNT, { 'cod:tempe': { rn: 'thermo', cnd: TEMPERATURE, curT0: 21.5 } }, ae)).rsc, 2001);
    const cases: Array<[Attrs, string]> = [
      [{ curT0: '22.0' }, 'curT0'],
      [{ unit: -1 }, 'unit'],
      [{ dgt: 'yesterday' }, 'dgt'],
      [{ red: 10 }, 'red'],
      [{ cnd: COLOUR }, 'cnd'],
    ];
    for (const [attrs, name] of cases) {
      const reply = await t.client.update('/cse-in/home/thermo', { 'cod:tempe': attrs }, ae);
      assert.equal(reply.rsc, 4000, `${JSON.stringify(attrs)}: ${reply.text}`);
      assert.match(String(reply.body?.['m2m:dbg']), new RegExp(`'${name}'`));
    }
    const badCreate = await t.client.create('/cse-in/home', FCNT, { 'cod:color': { rn: 'paint', cnd: COLOUR, red: 'high' } }, ae);
    assert.equal(badCreate.rsc, 4000);
    assert.match(String(badCreate.body?.['m2m:dbg']), /'red'/);
    assert.equal((await t.client.retrieve('/cse-in/home/paint', ae)).rsc, 4004);
    const thermo = under(await t.client.retrieve('/cse-in/home/thermo', ae), 'cod:tempe');
    assert.equal(thermo.curT0, 21.5);
    assert.equal(thermo.st, 0, 'refused updates changed nothing');
    const colour = await t.client.create('/cse-in/home', FCNT, { 'cod:color': { rn: 'paint', cnd: COLOUR, red: 255, green: 0, blue: 10 } }, ae);
    assert.equal(colour.rsc, 2001, colour.text);
  });

  it('an unknown containerDefinition is 4125 SPECIALIZATION_SCHEMA_NOT_FOUND; a name other than its own is 4000', async () => {
    const unknown = await t.client.create('/cse-in/home', FCNT, { 'cod:tempe': { rn: 'nowhere', cnd: 'org.example.nothing' } }, ae);
    assert.equal(unknown.rsc, 4125, unknown.text);
    assert.equal(unknown.status, 501);
    assert.match(String(unknown.body?.['m2m:dbg']), /'cnd'/);
    const unknownName = await t.client.create('/cse-in/home', FCNT, { 'xyz:thing': { rn: 'nowhere', cnd: 'org.example.thing' } }, ae);
    assert.equal(unknownName.rsc, 4125);
    const mismatch = await t.client.create('/cse-in/home', FCNT, { 'cod:binSh': { rn: 'nowhere', cnd: TEMPERATURE } }, ae);
    assert.equal(mismatch.rsc, 4000);
    assert.match(String(mismatch.body?.['m2m:dbg']), /cod:tempe/);
    const noCnd = await t.client.create('/cse-in/home', FCNT, { 'cod:binSh': { rn: 'nowhere', state: true } }, ae);
    assert.equal(noCnd.rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/home/nowhere', ae)).rsc, 4004);
  });

  it('takes a generic interworking specialization with its own mandatory attributes and a free cnd', async () => {
    const gis = await t.client.create('/cse-in/home', FCNT, { 'm2m:gis': { rn: 'gis', cnd: 'any.definition', gisn: 'svc' } }, ae);
    assert.equal(gis.rsc, 2001, gis.text);
    assert.equal((await t.client.create('/cse-in/home', FCNT, { 'm2m:gis': { cnd: 'x' } }, ae)).rsc, 4000);
    const gio = await t.client.create('/cse-in/home/gis', FCNT, { 'm2m:gio': { cnd: 'x', gion: 'op', gios: 'idle', giip: ['a', 'b'] } }, ae);
    assert.equal(gio.rsc, 2001, gio.text);
    assert.equal((await t.client.update('/cse-in/home/gis', { 'm2m:gis': { gisn: 'other' } }, ae)).rsc, 4000, 'gisn is NP on UPDATE');
  });

  it('keeps flexContainerInstances of its states within mni and mbs, served by la and ol', async () => {
    const created = await t.client.create('/cse-in/home', FCNT, { 'cod:tempe': { rn: 'log', cnd: TEMPERATURE, curT0: 20, fcied: true, mni: 2 } }, ae);
    assert.equal(created.rsc, 2001, created.text);
    assert.equal(under(created, 'cod:tempe').cni, 1);
    assert.equal(under(created, 'cod:tempe').cbs, 2);
    for (const value of [21, 22]) assert.equal((await t.client.update('/cse-in/home/log', { 'cod:tempe': { curT0: value } }, ae)).rsc, 2004);
    const fcnt = under(await t.client.retrieve('/cse-in/home/log', ae), 'cod:tempe');
    assert.equal(fcnt.cni, 2);
    assert.equal(fcnt.st, 2);
    const latest = under(await t.client.retrieve('/cse-in/home/log/la', ae), 'cod:tempe');
    assert.equal(latest.ty, FCI);
    assert.equal(latest.curT0, 22);
    assert.equal(latest.st, 2);
    assert.equal(latest.org, ae);
    assert.equal(latest.cnd, undefined);
    assert.equal(under(await t.client.retrieve('/cse-in/home/log/ol', ae), 'cod:tempe').curT0, 21);

    // A change of the limits alone records no new state.
    assert.equal((await t.client.update('/cse-in/home/log', { 'cod:tempe': { mni: 1 } }, ae)).rsc, 2004);
    assert.equal(under(await t.client.retrieve('/cse-in/home/log', ae), 'cod:tempe').cni, 1);
    const tooSmall = await t.client.update('/cse-in/home/log', { 'cod:tempe': { mbs: 1 } }, ae);
    assert.equal(tooSmall.rsc, 4000);
    assert.match(String(tooSmall.body?.['m2m:dbg']), /'mbs'/);

    // Instances are the CSE's: no request creates or changes one; deleting one is counted.
    assert.equal((await t.client.create('/cse-in/home/log', FCI, { 'cod:tempe': { curT0: 1 } }, ae)).rsc, 4005);
    assert.equal((await t.client.update(`/cse-in/home/log/${String(latest.rn)}`, { 'cod:tempe': { curT0: 1 } }, ae)).rsc, 4005);
    assert.equal((await t.client.delete('/cse-in/home/log/la', ae)).rsc, 2002);
    assert.equal(under(await t.client.retrieve('/cse-in/home/log', ae), 'cod:tempe').cni, 0);
    assert.equal((await t.client.retrieve('/cse-in/home/log/la', ae)).rsc, 4004);
  });

  it('refuses mni / mbs / mia without fcied, and drops every instance when fcied is removed', async () => {
    const refused = await t.client.create('/cse-in/home', FCNT, { 'cod:tempe': { rn: 'nolimits', cnd: TEMPERATURE, mni: 3 } }, ae);
    assert.equal(refused.rsc, 4000);
    assert.match(String(refused.body?.['m2m:dbg']), /'mni'/);
    assert.equal((await t.client.create('/cse-in/home', FCNT, { 'cod:tempe': { rn: 'zero', cnd: TEMPERATURE, fcied: true, mni: 0 } }, ae)).rsc, 4000);
    assert.equal((await t.client.create('/cse-in/home', FCNT, { 'cod:tempe': { rn: 'onoff', cnd: TEMPERATURE, curT0: 1, fcied: true } }, ae)).rsc, 2001);
    assert.equal((await t.client.update('/cse-in/home/onoff', { 'cod:tempe': { curT0: 2 } }, ae)).rsc, 2004);
    const off = await t.client.update('/cse-in/home/onoff', { 'cod:tempe': { fcied: null } }, ae);
    assert.equal(off.rsc, 2004, off.text);
    assert.equal(under(off, 'cod:tempe').cni, undefined);
    assert.equal((await t.client.retrieve('/cse-in/home/onoff/la', ae)).rsc, 4004);
    const fcis = await t.client.retrieve('/cse-in/home/onoff?fu=1&ty=58', ae);
    assert.deepEqual((fcis.body?.['m2m:uril'] as string[] | undefined) ?? [], []);
    // fcied false keeps the latest state only.
    assert.equal((await t.client.update('/cse-in/home/onoff', { 'cod:tempe': { fcied: false } }, ae)).rsc, 2004);
    assert.equal((await t.client.update('/cse-in/home/onoff', { 'cod:tempe': { curT0: 3 } }, ae)).rsc, 2004);
    assert.equal(under(await t.client.retrieve('/cse-in/home/onoff', ae), 'cod:tempe').cni, 1);
    assert.equal(under(await t.client.retrieve('/cse-in/home/onoff/ol', ae), 'cod:tempe').curT0, 3);
  });

  it('is found by discovery and embedded under its specialization name', async () => {
    assert.equal((await t.client.create('/cse-in/home', 3, { 'm2m:cnt': { rn: 'rooms' } }, ae)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/home/rooms', FCNT, { 'cod:binSh': { rn: 'lamp', cnd: SWITCH, state: true, fcied: true } }, ae)).rsc, 2001);
    const found = await t.client.retrieve('/cse-in/home/rooms?fu=1&ty=28', ae);
    assert.deepEqual(found.body?.['m2m:uril'], ['cse-in/home/rooms/lamp']);
    const byDataPoint = await t.client.retrieve('/cse-in/home/rooms?fu=1&state=true', ae);
    assert.equal(byDataPoint.rsc, 2000, byDataPoint.text);
    assert.ok((byDataPoint.body?.['m2m:uril'] as string[]).includes('cse-in/home/rooms/lamp'), byDataPoint.text);
    const noMatch = await t.client.retrieve('/cse-in/home/rooms?fu=1&ty=28&state=false', ae);
    assert.deepEqual((noMatch.body?.['m2m:uril'] as string[] | undefined) ?? [], []);
    const instances = await t.client.retrieve('/cse-in/home/rooms?fu=1&ty=58', ae);
    assert.equal((instances.body?.['m2m:uril'] as string[]).length, 1);
    const embedded = await t.client.retrieve('/cse-in/home/rooms?rcn=4', ae);
    const cnt = under(embedded, 'm2m:cnt');
    const lamps = cnt['cod:binSh'] as Attrs[];
    assert.equal(lamps[0]?.rn, 'lamp');
    assert.equal((lamps[0]?.['cod:binSh'] as Attrs[])[0]?.ty, FCI);
  });

  it('obeys access control rules with chty 28', async () => {
    const guest = await t.client.registerAe('guest');
    const acp = await t.client.create('/cse-in/home', 1, {
      'm2m:acp': { rn: 'onlyFlex', pv: { acr: [{ acor: [guest], acop: 1, acod: [{ chty: [FCNT] }] }] }, pvs: { acr: [{ acor: [ae], acop: 63 }] } },
    }, ae);
    assert.equal(acp.rsc, 2001, acp.text);
    const acpRi = String(under(acp, 'm2m:acp').ri);
    assert.equal((await t.client.create('/cse-in/home', 3, { 'm2m:cnt': { rn: 'shared', acpi: [acpRi] } }, ae)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/home/shared', 3, { 'm2m:cnt': { rn: 'no' } }, guest)).rsc, 4103);
    const allowed = await t.client.create('/cse-in/home/shared', FCNT, { 'cod:binSh': { rn: 'yes', cnd: SWITCH } }, guest);
    assert.equal(allowed.rsc, 2001, allowed.text);
    assert.equal((await t.client.retrieve('/cse-in/home/shared/yes', guest)).rsc, 2000, 'the creator may read what it created');
  });

  it('reads and writes a specialization in XML, with its data points typed', async () => {
    const headers = (ty?: number): Record<string, string> => ({ Accept: 'application/xml', ...(ty ? { 'Content-Type': `application/xml;ty=${ty}` } : {}) });
    const body = `<cod:tempe xmlns:m2m="http://www.onem2m.org/xml/protocols" rn="xmlThermo"><cnd>${TEMPERATURE}</cnd><curT0>19.5</curT0><unit>1</unit></cod:tempe>`;
    const created = await t.client.request('POST', '/cse-in/home', { origin: ae, raw: body, headers: headers(FCNT) });
    assert.equal(created.rsc, 2001, created.text);
    const json = under(await t.client.retrieve('/cse-in/home/xmlThermo', ae), 'cod:tempe');
    assert.equal(json.curT0, 19.5);
    assert.equal(json.unit, 1);
    const xml = await t.client.request('GET', '/cse-in/home/xmlThermo', { origin: ae, headers: headers() });
    assert.match(xml.text, /<cod:tempe [^>]*rn="xmlThermo"/);
    assert.match(xml.text, /<curT0>19.5<\/curT0>/);
    // Every prefix used is declared (TS-0004 §6.3.1: a specialization may have its own namespace), on the root
    // element also where the flexContainer is nested (a parent's children, rcn 4).
    const commonDomain = 'xmlns:cod="http://www.onem2m.org/xml/protocols/commondomain"';
    assert.match(xml.text, new RegExp(`<cod:tempe [^>]*${commonDomain}`));
    const parent = await t.client.request('GET', '/cse-in/home?rcn=4', { origin: ae, headers: headers() });
    assert.equal(parent.rsc, 2000, parent.text);
    assert.match(parent.text, new RegExp(`^<\\?xml[^>]*\\?><m2m:\\w+ [^>]*${commonDomain}[^>]*>.*<cod:tempe `));
    assert.doesNotMatch(parent.text, /xmlns:hod=/, 'only the prefixes used are declared');
    const wrong = await t.client.request('PUT', '/cse-in/home/xmlThermo', { origin: ae, raw: '<cod:tempe><unit>many</unit></cod:tempe>', headers: { ...headers(), 'Content-Type': 'application/xml' } });
    assert.equal(wrong.rsc, 4000);
    assert.match(wrong.text, /unit/);
    const right = await t.client.request('PUT', '/cse-in/home/xmlThermo', { origin: ae, raw: '<cod:tempe><unit>2</unit></cod:tempe>', headers: { ...headers(), 'Content-Type': 'application/xml' } });
    assert.equal(right.rsc, 2004, right.text);
  });

  it('notifies its subscribers under the specialization name', async () => {
    const rx = await new Receiver().start();
    try {
      assert.equal((await t.client.create('/cse-in/home', FCNT, { 'cod:binSh': { rn: 'watched', cnd: SWITCH, state: false } }, ae)).rsc, 2001);
      const sub = await t.client.create('/cse-in/home/watched', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [1] } } }, ae);
      assert.equal(sub.rsc, 2001, sub.text);
      assert.equal((await t.client.update('/cse-in/home/watched', { 'cod:binSh': { state: true } }, ae)).rsc, 2004);
      await waitFor(() => rx.received.length >= 2);
      const sgn = rx.received[1]?.body['m2m:sgn'] as Attrs;
      const rep = (sgn.nev as Attrs).rep as Attrs;
      assert.equal((rep['cod:binSh'] as Attrs).state, true);

      // Each instance it stores is a child created: subscribers to that event hear of it, as of a contentInstance.
      assert.equal((await t.client.update('/cse-in/home/watched', { 'cod:binSh': { fcied: true } }, ae)).rsc, 2004);
      const childSub = await t.client.create('/cse-in/home/watched', 23, { 'm2m:sub': { rn: 'children', nu: [rx.url], enc: { net: [3], chty: [FCI] } } }, ae);
      assert.equal(childSub.rsc, 2001, childSub.text);
      const before = rx.received.length;
      assert.equal((await t.client.update('/cse-in/home/watched', { 'cod:binSh': { state: false } }, ae)).rsc, 2004);
      await waitFor(() => rx.received.some((r, i) => i >= before && ((r.body['m2m:sgn'] as Attrs).nev as Attrs | undefined)?.net === 3));
      const created = rx.received.slice(before).map((r) => (r.body['m2m:sgn'] as Attrs).nev as Attrs | undefined).find((nev) => nev?.net === 3);
      const instance = (created?.rep as Attrs)['cod:binSh'] as Attrs;
      assert.equal(instance.ty, FCI);
      assert.equal(instance.state, false);
    } finally {
      await rx.stop();
    }
  });
});

describe('flexContainerInstances and the stored-amount quota', () => {
  let t: TestCse;
  before(async () => {
    t = await startTestCse({ 'quota.rate': 0, 'quota.anonymousRate': 0, 'quota.resources': 4 });
  });
  after(() => t.close());

  it('counts each instance against the quota of the originator whose change stored it; over it, the change is refused whole', async () => {
    const ae = await t.client.registerAe('meter');
    const created = await t.client.create('/cse-in/meter', FCNT, { 'cod:tempe': { rn: 'log', cnd: TEMPERATURE, curT0: 1, fcied: true } }, ae);
    assert.equal(created.rsc, 2001, created.text); // AE, flexContainer, first instance: 3 of 4
    assert.equal((await t.client.update('/cse-in/meter/log', { 'cod:tempe': { curT0: 2 } }, ae)).rsc, 2004);
    const refused = await t.client.update('/cse-in/meter/log', { 'cod:tempe': { curT0: 3 } }, ae);
    assert.equal(refused.rsc, 5207, refused.text);
    const fcnt = under(await t.client.retrieve('/cse-in/meter/log', ae), 'cod:tempe');
    assert.deepEqual([fcnt.curT0, fcnt.cni, fcnt.st], [2, 2, 1]);
  });
});
