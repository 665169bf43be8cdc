// Resource and request identifiers drawn from a pool of random bytes: distinct across refills of the pool.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTimestamp, hasAssignedIdShape, newResourceId, parseAbsRelTimestamp, parseTarget, parseTimestamp, randomIdSuffix } from '../../src/primitive/identifiers.js';

describe('randomIdSuffix', () => {
  it('gives distinct base-36 suffixes of the length asked, across many refills of its pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const id = randomIdSuffix(i % 7 === 0 ? 40 : 16);
      assert.match(id, i % 7 === 0 ? /^[a-z0-9]{40}$/ : /^[a-z0-9]{16}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 5_000);
    assert.equal(randomIdSuffix(10_000).length, 10_000, 'longer than the pool');
  });
});

describe('newResourceId', () => {
  it('sorts as text in the order of creation time, with a fixed width, and never repeats within a millisecond', () => {
    // Millisecond times across digit and letter boundaries of base 36, and across a change of the leading digit.
    const times = [0, 35, 36, 1_295, 1_296, 1_733_390_000_000, 1_733_390_000_001, 1_733_390_000_035, 1_733_390_000_036, 2_821_109_907_455, 2_821_109_907_456];
    const ids = times.map((t) => newResourceId('cin', t));
    for (const id of ids) assert.match(id, /^cin[0-9a-z]{9}[a-z0-9]{10}$/);
    assert.deepEqual([...ids].sort(), ids);
    const sameMs = new Set(Array.from({ length: 10_000 }, () => newResourceId('cin', 1_733_390_000_000)));
    assert.equal(sameMs.size, 10_000);
  });

  it("is recognised by hasAssignedIdShape, as are the 16-character identifiers given before it", () => {
    assert.ok(hasAssignedIdShape(newResourceId('grp', Date.now()), 'grp'));
    assert.ok(hasAssignedIdShape(`grp${randomIdSuffix(16)}`, 'grp'));
    for (const other of [newResourceId('cnt', Date.now()), 'grp', `grp${randomIdSuffix(17)}`, 'grpABCDEFGHIJKLMNOP', 'Cgrp0123456789abcdef']) {
      assert.ok(!hasAssignedIdShape(other, 'grp'), other);
    }
  });
});

describe('formatTimestamp', () => {
  it("writes UTC in basic ISO 8601 with a microsecond fraction, the same whether or not the second is one of the last two asked for", () => {
    // What each value must read, built from Date's own ISO form.
    const expected = (ms: number): string => {
      const iso = new Date(ms).toISOString();
      return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)},${iso.slice(20, 23)}000`;
    };
    const base = Date.UTC(2026, 11, 31, 23, 59, 58, 990);
    // Within one second, across the second, the minute, the day and the year, back again, fractions, before 1970.
    const later = base + 86_400_000 * 365;
    const values = [base, base + 5, base + 9, base + 10, base + 15, base + 1009, base + 1010, base + 2000, base + 1, base + 0.7, 0, -1, -999, -1000, 1e12 + 7];
    // Two seconds in turn (ot and et), then a third.
    values.push(base, later, base + 3, later + 4, base + 5, base + 5000, later + 6, base + 7);
    for (const ms of values) assert.equal(formatTimestamp(ms), expected(ms), `at ${ms}`);
    assert.equal(formatTimestamp(Date.UTC(2026, 10, 25, 13, 13, 27, 123)), '20261125T131327,123000');
  });
});

describe('parseTimestamp', () => {
  it('reads offsets within ±23:59 only, and years 0000-0099 as themselves (not 1900-1999)', () => {
    assert.equal(parseTimestamp('20271206T120000+01:30'), Date.UTC(2027, 11, 6, 10, 30));
    assert.equal(parseTimestamp('20271206T120000-0200'), Date.UTC(2027, 11, 6, 14, 0));
    for (const bad of ['20271206T120000+99:99', '20271206T120000+24:00', '20271206T120000-12:60', '20260230T000000', '20261206T240000']) {
      assert.equal(parseTimestamp(bad), undefined, bad);
    }
    assert.equal(new Date(parseTimestamp('00500101T000000') ?? Number.NaN).getUTCFullYear(), 50);
    assert.equal(new Date(parseTimestamp('00000229T000000') ?? Number.NaN).getUTCMonth(), 1, 'year 0 is a leap year');
    // Written back with four digits of year (timestamps are compared as text), and never outside 0000-9999 in UTC.
    assert.equal(formatTimestamp(parseTimestamp('00500101T000000') ?? Number.NaN), '00500101T000000,000000');
    assert.equal(parseTimestamp('00000101T000000+01:00'), undefined);
    assert.equal(parseTimestamp('99991231T233000-01:00'), undefined);
  });
});

describe('parseAbsRelTimestamp', () => {
  it('holds a relative time within years 0000-9999, and formatTimestamp never writes a year of five digits', () => {
    const now = Date.UTC(2026, 11, 6, 12, 0, 0);
    assert.equal(parseAbsRelTimestamp('60000', now), now + 60_000);
    assert.equal(parseAbsRelTimestamp('PT1M', now), now + 60_000);
    const latest = parseTimestamp('99991231T235959,999');
    const earliest = parseTimestamp('00000101T000000');
    for (const far of ['999999999999999', 'P9999Y', 'P9999Y99999M999999W9999999D']) {
      assert.equal(parseAbsRelTimestamp(far, now), latest, far);
      assert.equal(formatTimestamp(parseAbsRelTimestamp(far, now) ?? Number.NaN), '99991231T235959,999000', far);
    }
    assert.equal(parseAbsRelTimestamp('-999999999999999', now), earliest);
    assert.equal(formatTimestamp(Date.UTC(12000, 0, 1)), '99991231T235959,999000');
    assert.equal(formatTimestamp(Date.UTC(-5, 0, 1)), '00000101T000000,000000');
  });
});

describe('parseTarget', () => {
  const self = { cseId: 'id-in', cseRn: 'cse-in', spId: 'sp-a.example.net' };
  it("compares an absolute target's SP-ID without case (a domain name), its CSE-ID exactly", () => {
    assert.equal(parseTarget('//SP-A.Example.NET/id-in/cse-in/box', self).kind, 'local');
    assert.deepEqual(parseTarget('//sp-b.example.net/id-in/cse-in/box', self), { kind: 'remote', cseId: '/id-in', spId: 'sp-b.example.net' });
    assert.deepEqual(parseTarget('//sp-a.example.net/ID-IN/cse-in', self), { kind: 'remote', cseId: '/ID-IN', spId: 'sp-a.example.net' });
  });
});
