// Resource and request identifiers drawn from a pool of random bytes: distinct across refills of the pool.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasAssignedIdShape, newResourceId, parseTarget, randomIdSuffix } from '../../src/primitive/identifiers.js';

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

describe('parseTarget', () => {
  const self = { cseId: 'id-in', cseRn: 'cse-in', spId: 'sp-a.example.net' };
  it("compares an absolute target's SP-ID without case (a domain name), its CSE-ID exactly", () => {
    assert.equal(parseTarget('//SP-A.Example.NET/id-in/cse-in/box', self).kind, 'local');
    assert.deepEqual(parseTarget('//sp-b.example.net/id-in/cse-in/box', self), { kind: 'remote', cseId: '/id-in', spId: 'sp-b.example.net' });
    assert.deepEqual(parseTarget('//sp-a.example.net/ID-IN/cse-in', self), { kind: 'remote', cseId: '/ID-IN', spId: 'sp-a.example.net' });
  });
});
