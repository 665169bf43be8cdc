// Per-originator quotas: request rate (token bucket), stored resources, bytes and subscriptions, non-blocking
// jobs. Small limits through configuration; a manual clock instead of waiting.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import coap from 'coap';
import { readFileSync } from 'node:fs';
import { call, startInMnTree, type InMnTree } from '../cse.js';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';
import { waitFor } from '../receiver.js';
import { createTestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;
const dbg = (body: Attrs | undefined): string => String(body?.['m2m:dbg']);

describe('request rate per originator', () => {
  let t: TestCse;
  const clock = new ManualClock();
  let a: string;
  let b: string;
  before(async () => {
    t = await startTestCse({ 'quota.rate': 1, 'quota.burst': 3, 'quota.anonymousRate': 1, 'quota.anonymousBurst': 4 }, { clock });
    a = await t.client.registerAe('rateA');
    b = await t.client.registerAe('rateB');
  });
  after(() => t.close());

  it('an originator past its burst gets 4141 with HTTP 429 and Retry-After, while another is served', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await t.client.retrieve(`/cse-in/rateA`, a)).rsc, 2000);
    const refused = await t.client.retrieve('/cse-in/rateA', a);
    assert.equal(refused.rsc, 4141);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.match(dbg(refused.body), /too many requests from originator 'CrateA'; retry in 1 s/);
    assert.equal((await t.client.retrieve('/cse-in/rateB', b)).rsc, 2000, 'another originator is not affected');
    assert.equal((await t.client.retrieve('/cse-in/rateA', a)).rsc, 4141, 'refused requests do not refill the bucket');
    clock.advance(1000);
    assert.equal((await t.client.retrieve('/cse-in/rateA', a)).rsc, 2000, 'one token a second');
    assert.equal((await t.client.retrieve('/cse-in/rateA', a)).rsc, 4141);
  });

  it('originators that are neither authenticated nor registered share one bucket; registered ones keep theirs', async () => {
    let answers = 0;
    while ((await t.client.retrieve('/cse-in', 'Xstranger')).rsc !== 4141) assert.ok(++answers <= 5, 'the anonymous bucket holds at most its burst');
    const other = await t.client.retrieve('/cse-in', 'Xsomebody-else');
    assert.equal(other.rsc, 4141, 'a new From value does not buy a new bucket');
    assert.match(dbg(other.body), /neither authenticated nor registered/);
    assert.equal((await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'late', api: 'Nlate', rr: false, srv: ['3'] } }, 'Clate')).rsc, 4141, 'registrations are anonymous too');
    assert.equal((await t.client.retrieve('/cse-in/rateB', b)).rsc, 2000);
  });

  it('never limits the admin', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await t.client.retrieve('/cse-in', 'CAdmin')).rsc, 2000);
  });
});

describe('request rate: shares and requests the CSE makes to itself', () => {
  let t: TestCse;
  const clock = new ManualClock();
  let a: string;
  let b: string;
  before(async () => {
    // Two processes share the rate: this one enforces half of the burst of 8.
    t = await startTestCse({ 'quota.rate': 2, 'quota.burst': 8, 'quota.processes': 2 }, { clock });
    a = await t.client.registerAe('shareA');
    b = await t.client.registerAe('shareB');
  });
  after(() => t.close());

  it('a group request counts once, not once per member; the process enforces its share of the burst', async () => {
    const mids: string[] = [];
    clock.advance(10_000);
    for (const rn of ['m1', 'm2', 'm3']) {
      const made = await t.client.create('/cse-in/shareA', 3, { 'm2m:cnt': { rn } }, a);
      assert.equal(made.rsc, 2001);
      mids.push(String((made.body?.['m2m:cnt'] as Attrs).ri));
    }
    clock.advance(10_000);
    assert.equal((await t.client.create('/cse-in/shareA', 9, { 'm2m:grp': { rn: 'g', mt: 3, mnm: 10, mid: mids } }, a)).rsc, 2001);
    // The bucket holds 4 (8 / 2 processes); one was just spent on the group.
    const fanned = await t.client.retrieve('/cse-in/shareA/g/fopt', a);
    assert.equal(fanned.rsc, 2000, fanned.text);
    const members = ((fanned.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[]).map((r) => r.rsc);
    assert.deepEqual(members, [2000, 2000, 2000], 'three members, and not one of them refused');
    assert.equal((await t.client.retrieve('/cse-in/shareA', a)).rsc, 2000);
    assert.equal((await t.client.retrieve('/cse-in/shareA', a)).rsc, 2000);
    // Another originator is active: the spent bucket now refuses (it does not while A has the CSE to itself).
    assert.equal((await t.client.retrieve('/cse-in/shareB', b)).rsc, 2000);
    assert.equal((await t.client.retrieve('/cse-in/shareA', a)).rsc, 4141, 'four requests since the refill: the share of the burst is spent');
  });
});

describe('request rate is work-conserving', () => {
  let t: TestCse;
  const clock = new ManualClock();
  before(async () => {
    t = await startTestCse({ 'quota.rate': 1, 'quota.burst': 1 }, { clock });
  });
  after(() => t.close());

  it('a spent bucket refuses only while another originator is active within the last second', async () => {
    const a = await t.client.registerAe('aloneA');
    const b = await t.client.registerAe('aloneB');
    clock.advance(5_000);
    for (let i = 0; i < 5; i++) assert.equal((await t.client.retrieve('/cse-in/aloneA', a)).rsc, 2000, 'alone on the CSE: never refused');
    assert.equal((await t.client.retrieve('/cse-in/aloneB', b)).rsc, 2000);
    const refused = await t.client.retrieve('/cse-in/aloneA', a);
    assert.equal(refused.rsc, 4141, 'B is active: A is held to its rate');
    assert.equal(refused.status, 429);
    clock.advance(1_500);
    assert.equal((await t.client.retrieve('/cse-in/aloneA', a)).rsc, 2000, 'B has been quiet for more than a second, and A has a token again');
  });
});

describe('request rate: what one other CSE sends or relays adds up', () => {
  // The MN's certificate lets it relay for any AE-ID of its own (/id-mn/C…): the IN cannot tell an AE of the MN
  // from an ID the MN made up. Here the MN is the attacker: it sends straight to the IN, a new AE-ID every time.
  let tree: InMnTree;
  before(async () => {
    tree = await startInMnTree('warden-relay-quota-', {}, { 'quota.relayRate': 1, 'quota.relayBurst': 10 });
  });
  after(async () => {
    await tree?.mnCse.close();
    await tree?.inCse.close();
  });

  it('refuses a relaying CSE past its shared limit (4141) however many originators it names, and serves the IN\'s own AE', async () => {
    const { ca, inCse, files } = tree;
    const port = inCse.cse.httpPort;
    const local = await call(port, ca, 'POST', '/cse-in', 'Clocal', { ty: 2, body: { 'm2m:ae': { rn: 'local', api: 'Nlocal', rr: false, srv: ['3'] } } });
    assert.equal(local.rsc, 2001, JSON.stringify(local.body));
    const client = { cert: readFileSync(files['id-mn'].cert, 'utf8'), key: readFileSync(files['id-mn'].key, 'utf8') };
    let refused: Awaited<ReturnType<typeof call>> | undefined;
    let served = 0;
    // Each invented originator has a full bucket of its own (quota.rate's defaults): only the shared limit can refuse.
    for (let i = 0; i < 30 && !refused; i++) {
      const relayed = await call(port, ca, 'GET', '/cse-in', `/id-mn/Cinvented${i}`, { client });
      if (relayed.rsc === 4141) refused = relayed;
      else served++;
      // Another originator active, as the limit only refuses while somebody else is kept waiting.
      assert.notEqual((await call(port, ca, 'GET', '/cse-in/local', 'Clocal')).rsc, 4141, 'the IN\'s own AE is not limited by it');
    }
    assert.ok(refused, 'the relaying CSE was never refused');
    // The MN's registration spent some of the burst of 10 already.
    assert.ok(served >= 1 && served <= 10, `the rest of the burst is served first (served ${served})`);
    assert.equal(refused.status, 429);
    assert.match(String(refused.body?.['m2m:dbg']), /sent or relayed by CSE '\/?id-mn'/);
    assert.equal((await call(port, ca, 'GET', '/cse-in', '/id-mn', { client })).rsc, 4141, 'the CSE\'s own requests share the limit');
    assert.equal((await call(port, ca, 'GET', '/cse-in/local', 'Clocal')).rsc, 2000);
  });
});

describe('stored amounts: what one other CSE stores for the originators it relays adds up', () => {
  // A registree may relay for any CSE-ID it lists in its dcse, and lists what it likes: here the MN invents ten.
  let tree: InMnTree;
  before(async () => {
    tree = await startInMnTree('warden-relay-stored-', {}, { 'quota.resources': 4 });
  });
  after(async () => {
    await tree?.mnCse.close();
    await tree?.inCse.close();
  });

  it('counts the resources of relayed originators against the relaying CSE, and removes what its branch announced when it leaves', async () => {
    const { ca, inCse, files } = tree;
    const port = inCse.cse.httpPort;
    const client = { cert: readFileSync(files['id-mn'].cert, 'utf8'), key: readFileSync(files['id-mn'].key, 'utf8') };
    const invented = Array.from({ length: 10 }, (_, i) => `/id-q${String(i)}`);
    assert.equal((await call(port, ca, 'PUT', '/cse-in/id-mn', '/id-mn', { body: { 'm2m:csr': { dcse: invented } }, client })).rsc, 2004);
    const answers: number[] = [];
    for (const csi of invented) answers.push((await call(port, ca, 'POST', '/cse-in', csi, { ty: 10005, body: { 'm2m:cbA': { lnk: `${csi}/cse` } }, client })).rsc);
    const created = answers.filter((rsc) => rsc === 2001).length;
    // The MN's own <remoteCSE> is one of its four.
    assert.equal(created, 3, JSON.stringify(answers));
    assert.ok(answers.slice(3).every((rsc) => rsc === 5207), JSON.stringify(answers));
    assert.equal((await call(port, ca, 'GET', '/cse-in/id-q0Annc', 'CAdmin')).rsc, 2000);
    // The MN leaves the tree (the IN's admin deletes its <remoteCSE>): what its branch announced goes with it.
    assert.equal((await call(port, ca, 'DELETE', '/cse-in/id-mn', 'CAdmin')).rsc, 2002);
    // They go one after the other, after the deletion's answer: each is waited for.
    for (const csi of invented.slice(0, 3)) await waitFor(async () => (await call(port, ca, 'GET', `/cse-in${csi}Annc`, 'CAdmin')).rsc === 4004, 10_000);
  });
});

describe('requests in progress per originator', () => {
  let t: TestCse;
  before(async () => {
    t = await startTestCse({ 'quota.inFlight': 2 });
  });
  after(() => t.close());

  it('an originator with quota.inFlight requests being served gets 4141 at once; others are served; its places come back', async () => {
    const sleepy = await t.client.registerAe('sleepy', { rr: false });
    assert.equal((await t.client.create('/cse-in/sleepy', 15, { 'm2m:pch': { rn: 'pch' } }, sleepy)).rsc, 2001);
    const other = await t.client.registerAe('other');
    // Two long polls of the polling channel hold both places until their X-M2M-RET.
    const polls = [0, 1].map(() => t.client.retrieve('/cse-in/sleepy/pch/pcu', sleepy, { headers: { 'X-M2M-RET': '1500' } }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const third = await t.client.retrieve('/cse-in/sleepy', sleepy);
    assert.equal(third.rsc, 4141, third.text);
    assert.equal(third.status, 429);
    assert.match(String(third.body?.['m2m:dbg']), /in progress at once \(at most 2\)/);
    assert.equal((await t.client.retrieve('/cse-in/other', other)).rsc, 2000, 'another originator is served');
    for (const poll of await Promise.all(polls)) assert.notEqual(poll.rsc, 4141);
    assert.equal((await t.client.retrieve('/cse-in/sleepy', sleepy)).rsc, 2000, 'the places came back');
  });
});

describe('requests waiting for their operation execution time', () => {
  let t: TestCse;
  before(async () => {
    t = await startTestCse({ 'quota.inFlightTotal': 4 });
  });
  after(() => t.close());

  it('hold no in-flight place while they wait, and one originator has at most 8 waiting (4141 beyond)', async () => {
    const waiter = await t.client.registerAe('waiter');
    const others = ['patient1', 'patient2'];
    for (const name of others) await t.client.registerAe(name);
    // Nine blocking reads to be carried out 2 s from now, sent together.
    const waiting = Array.from({ length: 9 }, () => t.client.retrieve('/cse-in/waiter', waiter, { headers: { 'X-M2M-OET': '2000' } }));
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Eight waits holding places would fill quota.inFlightTotal (4) and its reserve for everyone else.
    for (const name of others) assert.equal((await t.client.retrieve(`/cse-in/${name}`, `C${name}`)).rsc, 2000);
    const answers = await Promise.all(waiting);
    const refused = answers.filter((a) => a.rsc === 4141);
    assert.equal(refused.length, 1, JSON.stringify(answers.map((a) => a.rsc)));
    assert.match(String(refused[0]?.body?.['m2m:dbg']), /waiting for their operation execution time \(this originator has 8\)/);
    assert.equal(answers.filter((a) => a.rsc === 2000).length, 8);
  });

  it('leave the admin unbounded, and a group request waits once: its members carry no oet', async () => {
    const admin = await Promise.all(Array.from({ length: 9 }, () => t.client.retrieve('/cse-in', 'CAdmin', { headers: { 'X-M2M-OET': '500' } })));
    assert.deepEqual(admin.map((a) => a.rsc), Array(9).fill(2000));
    const owner = await t.client.registerAe('grouper');
    const members: string[] = [];
    for (let i = 0; i < 12; i++) {
      const cnt = await t.client.create('/cse-in/grouper', 3, { 'm2m:cnt': { rn: `m${String(i)}` } }, owner);
      members.push(String((cnt.body?.['m2m:cnt'] as Record<string, unknown>).ri));
    }
    assert.equal((await t.client.create('/cse-in/grouper', 9, { 'm2m:grp': { rn: 'g', mnm: 20, mid: members } }, owner)).rsc, 2001);
    const fanned = await t.client.retrieve('/cse-in/grouper/g/fopt', owner, { headers: { 'X-M2M-OET': '500' } });
    assert.equal(fanned.rsc, 2000, fanned.text);
    const answers = (fanned.body?.['m2m:agr'] as { 'm2m:rsp': Array<{ rsc: number }> })['m2m:rsp'];
    assert.deepEqual(answers.map((a) => a.rsc), Array(12).fill(2000), 'each member answered (a member waiting again counted against the 8)');
  });
});

describe('requests in progress in the whole process', () => {
  let t: TestCse;
  before(async () => {
    t = await startTestCse({ 'quota.inFlight': 100, 'quota.inFlightTotal': 2 });
  });
  after(() => t.close());

  const pollingAe = async (name: string): Promise<string> => {
    const ae = await t.client.registerAe(name, { rr: false });
    assert.equal((await t.client.create(`/cse-in/${name}`, 15, { 'm2m:pch': { rn: 'pch' } }, ae)).rsc, 2001);
    return ae;
  };
  const longPoll = (name: string, ae: string): Promise<{ rsc: number | undefined }> =>
    t.client.retrieve(`/cse-in/${name}/pch/pcu`, ae, { headers: { 'X-M2M-RET': '1500' } });

  it('past quota.inFlightTotal only originators with nothing in progress get in, up to the reserve; then everyone but the admin waits', async () => {
    const heavy = await pollingAe('heavy');
    const light = await pollingAe('light');
    const late = await t.client.registerAe('late');
    // The heavy originator takes both places of the process with two long polls.
    const polls = [longPoll('heavy', heavy), longPoll('heavy', heavy)];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const more = await t.client.retrieve('/cse-in/heavy', heavy);
    assert.equal(more.rsc, 4141, more.text);
    assert.equal(more.status, 429);
    assert.match(String(more.body?.['m2m:dbg']), /quota\.inFlightTotal 2/);
    // An originator with nothing in progress gets the reserve's one place, and holds it.
    polls.push(longPoll('light', light));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await t.client.retrieve('/cse-in/late', late);
    assert.equal(refused.rsc, 4141, 'past the reserve everyone is refused');
    assert.match(String(refused.body?.['m2m:dbg']), /quota\.inFlightTotal/);
    assert.equal((await t.client.retrieve('/cse-in', 'CAdmin')).rsc, 2000, 'the admin is never counted');
    for (const poll of await Promise.all(polls)) assert.notEqual(poll.rsc, 4141);
    assert.equal((await t.client.retrieve('/cse-in/late', late)).rsc, 2000, 'the places came back');
  });
});

describe('request rate over CoAP', () => {
  let t: TestCse;
  const clock = new ManualClock();
  let a: string;
  before(async () => {
    t = await startTestCse({ 'coap.enabled': true, 'coap.port': 0, 'quota.rate': 1, 'quota.burst': 1 }, { clock });
    a = await t.client.registerAe('coapA');
  });
  after(() => t.close());

  const get = (origin: string): Promise<{ code: string; headers: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const req = coap.request({ hostname: '127.0.0.1', port: t.cse.coapPort ?? 0, method: 'GET', pathname: '/cse-in/coapA', confirmable: true });
      req.setOption('279', origin);
      req.setOption('283', 'rq-coap');
      req.setOption('271', '3');
      req.on('response', (res: { code: string; headers: Record<string, unknown> }) => resolve(res));
      req.on('error', reject);
      req.end();
    });

  it('answers 4.29 Too Many Requests with Max-Age (RFC 8516) and the RSC option 4141', async () => {
    assert.equal((await get(a)).code, '2.05');
    const refused = await get(a);
    assert.equal(refused.code, '4.29');
    assert.equal(refused.headers['Max-Age'], 1);
    assert.equal(Number(refused.headers['307']), 4141);
  });
});

describe('stored resources, bytes and subscriptions per originator', () => {
  let t: TestCse;
  let a: string;
  let b: string;
  before(async () => {
    t = await startTestCse({ 'quota.rate': 0, 'quota.anonymousRate': 0, 'quota.resources': 5, 'quota.subscriptions': 1, 'quota.storedBytes': 4000 });
    a = await t.client.registerAe('storeA');
    b = await t.client.registerAe('storeB');
    for (const [ae, name] of [[a, 'storeA'], [b, 'storeB']] as const) {
      assert.equal((await t.client.create(`/cse-in/${name}`, 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
    }
  });
  after(() => t.close());

  it('refuses the resource past the limit with 5207 to that originator only, and a delete frees it', async () => {
    // The AE and its container are two of A's five.
    for (const rn of ['one', 'two', 'three']) assert.equal((await t.client.create('/cse-in/storeA/c', 4, { 'm2m:cin': { rn, con: 'v' } }, a)).rsc, 2001);
    const refused = await t.client.create('/cse-in/storeA/c', 4, { 'm2m:cin': { rn: 'four', con: 'v' } }, a);
    assert.equal(refused.rsc, 5207);
    assert.equal(refused.status, 406);
    assert.match(dbg(refused.body), /quota of 5 resources of originator 'CstoreA' is reached \(5 in use; quota\.resources\)/);
    assert.equal((await t.client.retrieve('/cse-in/storeA/c/four', a)).rsc, 4004, 'nothing was stored');
    assert.equal((await t.client.create('/cse-in/storeB/c', 4, { 'm2m:cin': { rn: 'one', con: 'v' } }, b)).rsc, 2001, 'B is not affected');
    assert.equal((await t.client.delete('/cse-in/storeA/c/one', a)).rsc, 2002);
    assert.equal((await t.client.create('/cse-in/storeA/c', 4, { 'm2m:cin': { rn: 'four', con: 'v' } }, a)).rsc, 2001, 'the delete gave the quota back');
  });

  it('refuses a second subscription to that originator only', async () => {
    assert.equal((await t.client.create('/cse-in/storeB/c', 23, { 'm2m:sub': { rn: 's1', nu: [b] } }, b)).rsc, 2001);
    const refused = await t.client.create('/cse-in/storeB', 23, { 'm2m:sub': { rn: 's2', nu: [b] } }, b);
    assert.equal(refused.rsc, 5207);
    assert.match(dbg(refused.body), /quota of 1 subscriptions of originator 'CstoreB'/);
    assert.equal((await t.client.delete('/cse-in/storeB/c/s1', b)).rsc, 2002);
    assert.equal((await t.client.create('/cse-in/storeB', 23, { 'm2m:sub': { rn: 's2', nu: [b] } }, b)).rsc, 2001);
  });

  it('counts the bytes of what is stored, on create and on an update that grows it, and frees them on delete', async () => {
    const big = 'x'.repeat(3000);
    assert.equal((await t.client.delete('/cse-in/storeB/c/one', b)).rsc, 2002, 'room for one more resource');
    assert.equal((await t.client.create('/cse-in/storeB/c', 4, { 'm2m:cin': { rn: 'big', con: big } }, b)).rsc, 2001);
    const refused = await t.client.create('/cse-in/storeB/c', 4, { 'm2m:cin': { rn: 'big2', con: big } }, b);
    assert.equal(refused.rsc, 5207);
    assert.match(dbg(refused.body), /quota of 4000 bytes of stored resources of originator 'CstoreB'.*quota\.storedBytes/);
    const grown = await t.client.update('/cse-in/storeB', { 'm2m:ae': { lbl: [big] } }, b);
    assert.equal(grown.rsc, 5207, 'an update that grows a resource past the quota is refused');
    assert.equal(((await t.client.retrieve('/cse-in/storeB', b)).body?.['m2m:ae'] as Attrs).lbl, undefined, 'and undone');
    assert.equal((await t.client.update('/cse-in/storeA', { 'm2m:ae': { lbl: ['small'] } }, a)).rsc, 2004, 'A is not affected');
    assert.equal((await t.client.delete('/cse-in/storeB/c/big', b)).rsc, 2002);
    assert.equal((await t.client.create('/cse-in/storeB/c', 4, { 'm2m:cin': { rn: 'big2', con: big } }, b)).rsc, 2001, 'the delete gave the bytes back');
  });

  it('gives back everything an AE held when it deregisters', async () => {
    const usage = await t.cse.services.store.usage('CstoreB');
    assert.ok(usage.resources > 0 && usage.bytes > 0);
    assert.equal((await t.client.delete('/cse-in/storeB', b)).rsc, 2002);
    assert.deepEqual(await t.cse.services.store.usage('CstoreB'), { resources: 0, bytes: 0, subscriptions: 0 });
  });
});

/** A non-blocking CREATE under the originator's AE, due in an hour of the manual clock: it stays in progress until the test moves it. */
function laterJob(t: TestCse, origin: string, rn: string): ReturnType<TestCse['client']['request']> {
  return t.client.request('POST', `/cse-in/${origin.slice(1)}?rt=1`, { origin, ty: 3, body: { 'm2m:cnt': { rn } }, headers: { 'X-M2M-OET': String(3_600_000) } });
}

describe('non-blocking requests per originator', () => {
  let t: TestCse;
  const clock = new ManualClock();
  let a: string;
  let b: string;
  before(async () => {
    t = await startTestCse({ 'quota.jobs': 2 }, { clock });
    a = await t.client.registerAe('jobsA');
    b = await t.client.registerAe('jobsB');
  });
  after(() => t.close());

  const later = (origin: string, rn: string): ReturnType<typeof laterJob> => laterJob(t, origin, rn);

  it('refuses the job past quota.jobs with 4141 and HTTP 429 to that originator only', async () => {
    assert.equal((await later(a, 'one')).rsc, 1001);
    assert.equal((await later(a, 'two')).rsc, 1001);
    const refused = await later(a, 'three');
    assert.equal(refused.rsc, 4141, 'not 5206, which says non-blocking requests are not supported');
    assert.equal(refused.status, 429);
    assert.match(dbg(refused.body), /2 non-blocking requests of this originator are in progress \(quota\.jobs\)/);
    assert.equal((await later(b, 'one')).rsc, 1001, 'B is not affected');
    clock.advance(2 * 3_600_000);
    await waitFor(async () => (await t.client.retrieve('/cse-in/jobsA/two', a)).rsc === 2000);
    await waitFor(async () => (await later(a, 'three')).rsc === 1001);
  });
});

describe('non-blocking requests of the whole CSE (nonBlocking.maxJobs)', () => {
  let t: TestCse;
  const clock = new ManualClock();
  before(async () => {
    t = await startTestCse({ 'quota.jobs': 2, 'nonBlocking.maxJobs': 10 }, { clock });
  });
  after(() => t.close());

  const later = (origin: string, rn: string): ReturnType<typeof laterJob> => laterJob(t, origin, rn);

  it('past the bound, an originator with no job in progress still adds one (up to a tenth more) and the admin more; the rest 5207', async () => {
    // Five originators with two jobs each fill the ten (new AE-IDs are as cheap as registration is open).
    for (let i = 0; i < 5; i++) {
      const ae = await t.client.registerAe(`filler${i}`);
      assert.equal((await later(ae, 'one')).rsc, 1001);
      assert.equal((await later(ae, 'two')).rsc, 1001);
    }
    const full = await later('Cfiller0', 'three');
    assert.equal(full.rsc, 4141, 'its own quota first');
    const newcomer = await t.client.registerAe('newcomer');
    assert.equal((await later(newcomer, 'one')).rsc, 1001, 'the reserve: one job for an originator with none');
    const second = await later(newcomer, 'two');
    assert.equal(second.rsc, 5207, second.text);
    const late = await t.client.registerAe('late');
    assert.equal((await later(late, 'one')).rsc, 5207, 'the reserve (a tenth of ten: one) is used up');
    // The admin is not shut out by what the others fill.
    const admin = await t.client.request('POST', '/cse-in?rt=1', { origin: 'CAdmin', ty: 3, body: { 'm2m:cnt': { rn: 'adminJob' } }, headers: { 'X-M2M-OET': String(3_600_000) } });
    assert.equal(admin.rsc, 1001, admin.text);
  });
});

describe('non-blocking requests per originator, many at once on PostgreSQL', () => {
  it('accepts no more than quota.jobs however many arrive together', async () => {
    const db = await createTestDatabase();
    const t = await startTestCse({ 'quota.jobs': 2, 'storage.backend': 'postgres', 'storage.url': db.url });
    try {
      const ae = await t.client.registerAe('eager');
      // Due in an hour: none ends while the others are counted.
      const replies = await Promise.all(Array.from({ length: 8 }, () => t.client.retrieve('/cse-in/eager?rt=1', ae, { headers: { 'X-M2M-OET': '3600000' } })));
      const answers = replies.map((r) => r.rsc);
      assert.equal(answers.filter((rsc) => rsc === 1001).length, 2, `answers: ${answers.join(',')}`);
      assert.ok(answers.every((rsc) => rsc === 1001 || rsc === 4141), `answers: ${answers.join(',')}`);
    } finally {
      await t.close();
      await db.drop();
    }
  });
});
