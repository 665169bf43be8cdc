// Resource and request identifiers drawn from a pool of random bytes: distinct across refills of the pool.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTarget, randomIdSuffix } from '../../src/primitive/identifiers.js';

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

describe('parseTarget', () => {
  const self = { cseId: 'id-in', cseRn: 'cse-in', spId: 'sp-a.example.net' };
  it("compares an absolute target's SP-ID without case (a domain name), its CSE-ID exactly", () => {
    assert.equal(parseTarget('//SP-A.Example.NET/id-in/cse-in/box', self).kind, 'local');
    assert.deepEqual(parseTarget('//sp-b.example.net/id-in/cse-in/box', self), { kind: 'remote', cseId: '/id-in', spId: 'sp-b.example.net' });
    assert.deepEqual(parseTarget('//sp-a.example.net/ID-IN/cse-in', self), { kind: 'remote', cseId: '/ID-IN', spId: 'sp-a.example.net' });
  });
});
