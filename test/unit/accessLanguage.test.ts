import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCESS_OPERATION, compileRules, ruleGrants, type AccessFacts } from '../../src/security/acp.js';
import { absoluteSegments, segmentMatches } from '../../src/security/originators.js';
import { parseAddress } from '../../src/security/addresses.js';
import { compileSchedule, scheduleMatches, timeFields, type TimeFields } from '../../src/security/schedule.js';

const self = { cseId: 'id-in', cseRn: 'cse-in', spId: 'sp.example' };

describe('accessControlWindow schedules', () => {
  const at = (y: number, mo: number, d: number, h: number, mi: number, s: number): TimeFields => timeFields(Date.UTC(y, mo - 1, d, h, mi, s));

  it('matches each field, ranges, lists and steps in UTC', () => {
    const office = compileSchedule('* * 8-17 * * 1-5 *');
    assert.ok(scheduleMatches(office, at(2026, 11, 25, 8, 0, 0)));
    assert.ok(scheduleMatches(office, at(2026, 11, 25, 17, 59, 59)));
    assert.ok(!scheduleMatches(office, at(2026, 11, 25, 18, 0, 0)));
    assert.ok(!scheduleMatches(office, at(2026, 11, 28, 12, 0, 0)), 'Saturday');
    const spec = compileSchedule('* 0-5 2,6,10 * * * *');
    assert.ok(scheduleMatches(spec, at(2026, 1, 1, 6, 5, 59)));
    assert.ok(!scheduleMatches(spec, at(2026, 1, 1, 6, 6, 0)));
    const steps = compileSchedule('*/15 * 0-23/2 * * * 2026');
    assert.ok(scheduleMatches(steps, at(2026, 3, 3, 4, 10, 30)));
    assert.ok(!scheduleMatches(steps, at(2026, 3, 3, 5, 10, 30)));
    assert.ok(!scheduleMatches(steps, at(2026, 3, 3, 4, 10, 31)));
    assert.ok(!scheduleMatches(steps, at(2027, 3, 3, 4, 10, 30)));
    // A past year is a valid window that never matches again (issue #12).
    assert.ok(!scheduleMatches(compileSchedule('* * * * * * 1999'), at(2026, 3, 3, 4, 10, 30)));
    assert.ok(scheduleMatches(compileSchedule('* * * * * * 1984-2030'), at(2026, 3, 3, 4, 10, 30)));
  });

  it('refuses malformed entries with a reason', () => {
    for (const bad of ['* * * * * *', '60 * * * * * *', '* * 24 * * * *', '* * * 0 * * *', '* * * * 13 * *', '* * * * * 7 *', '* * * * * * 10000', '* * * * * * 2027-2026', '*/0 * * * * * *', '1/5 * * * * * *', 'a * * * * * *', '*,1 * * * * * *']) {
      assert.throws(() => compileSchedule(bad), Error, bad);
    }
  });
});

describe('originator identifiers', () => {
  it('normalises every form to absolute segments', () => {
    assert.deepEqual(absoluteSegments('Cae', self), ['sp.example', 'id-in', 'Cae']);
    assert.deepEqual(absoluteSegments('/id-in/Cae', self), ['sp.example', 'id-in', 'Cae']);
    assert.deepEqual(absoluteSegments('//sp.example/id-in/Cae', self), ['sp.example', 'id-in', 'Cae']);
    assert.deepEqual(absoluteSegments('Sae', self), ['sp.example', 'Sae']);
    assert.deepEqual(absoluteSegments('/id-mn', self), ['sp.example', 'id-mn']);
  });

  it('globs a segment without regular expressions', () => {
    assert.ok(segmentMatches('C*', 'Cabc'));
    assert.ok(segmentMatches('*', ''));
    assert.ok(segmentMatches('a*b*c', 'aXbYc'));
    assert.ok(!segmentMatches('a*b*c', 'acb'));
    assert.ok(!segmentMatches('ab*ba', 'aba'), 'prefix and suffix must not overlap');
    assert.ok(segmentMatches('(.*)+', '(.*)+'), 'regex syntax is literal');
    assert.ok(!segmentMatches('(.*)+', 'anything'));
    const start = process.hrtime.bigint();
    segmentMatches('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000));
    assert.ok(Number(process.hrtime.bigint() - start) / 1e9 < 5, 'no catastrophic backtracking');
  });
});

describe('address ranges', () => {
  it('parses IPv4, IPv6 (compressed, embedded IPv4, zone) and matches prefixes', async () => {
    const { inRange, unmapped } = await import('../../src/security/addresses.js');
    const range = (text: string, prefix: number) => ({ address: parseAddress(text)!, prefix });
    assert.deepEqual(parseAddress('::ffff:127.0.0.1')?.groups, [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    assert.deepEqual(unmapped(parseAddress('::ffff:127.0.0.1')!), parseAddress('127.0.0.1'));
    assert.deepEqual(parseAddress('fe80::1%eth0')?.groups, [0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    assert.equal(parseAddress('not-an-ip'), undefined);
    assert.ok(inRange(parseAddress('10.1.2.3')!, range('10.0.0.0', 8)));
    assert.ok(!inRange(parseAddress('11.1.2.3')!, range('10.0.0.0', 8)));
    assert.ok(inRange(parseAddress('192.168.1.77')!, range('192.168.1.64', 26)));
    assert.ok(!inRange(parseAddress('192.168.1.130')!, range('192.168.1.64', 26)));
    assert.ok(inRange(parseAddress('2001:db8:8000::1')!, range('2001:db8:8000::', 33)));
    assert.ok(!inRange(parseAddress('2001:db8::1')!, range('2001:db8:8000::', 33)));
    assert.ok(inRange(parseAddress('8.8.8.8')!, range('0.0.0.0', 0)));
    assert.ok(!inRange(parseAddress('::1')!, range('0.0.0.0', 0)), 'families never mix');
  });
});

describe('rule evaluation', () => {
  const facts = (over: Partial<AccessFacts> = {}): AccessFacts => ({
    originator: absoluteSegments('Cguest', self),
    roleIds: [],
    groups: new Set(),
    operation: ACCESS_OPERATION.RETRIEVE,
    authenticated: false,
    time: timeFields(Date.UTC(2026, 10, 25, 12, 0, 0)),
    address: parseAddress('127.0.0.1'),
    ...over,
  });

  it('acaf grants only to authenticated originators', () => {
    const [rule] = compileRules({ acr: [{ acor: ['Cguest'], acop: 2, acaf: true }] }, 'pv', self, 0);
    assert.ok(rule);
    assert.ok(!ruleGrants(rule, facts()));
    assert.ok(ruleGrants(rule, facts({ authenticated: true })));
  });

  it('verified roles and group membership match their acor entries', () => {
    const [role, group] = compileRules({ acr: [{ acor: ['admin@example.com'], acop: 2 }, { acor: ['grpabcdefghijklmnop'], acop: 2 }] }, 'pv', self, 0);
    assert.ok(role && group);
    assert.ok(!ruleGrants(role, facts()));
    assert.ok(ruleGrants(role, facts({ roleIds: ['admin@example.com'] })));
    assert.ok(!ruleGrants(group, facts()));
    assert.ok(ruleGrants(group, facts({ groups: new Set(['grpabcdefghijklmnop']) })));
  });

  it('location rules grant only with a known location inside the region', () => {
    const [country, circle] = compileRules(
      { acr: [{ acor: ['all'], acop: 2, acco: [{ aclr: { accc: ['DE'] } }] }, { acor: ['all'], acop: 2, acco: [{ aclr: { accr: [52.52, 13.405, 5000] } }] }] },
      'pv',
      self,
      0,
    );
    assert.ok(country && circle);
    assert.ok(!ruleGrants(country, facts()));
    assert.ok(ruleGrants(country, facts({ location: { country: 'DE' } })));
    assert.ok(!ruleGrants(country, facts({ location: { country: 'FR' } })));
    assert.ok(ruleGrants(circle, facts({ location: { latitude: 52.53, longitude: 13.41 } })), '~1.2 km away');
    assert.ok(!ruleGrants(circle, facts({ location: { latitude: 48.14, longitude: 11.58 } })), 'Munich');
  });
});
