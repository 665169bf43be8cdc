// The client's generated types (packages/client/src/generated/resources.ts) must be what the generator makes
// from Warden's tables today: a table changed without re-running the generator fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { GENERATED_FILE, renderClientTypes } from '../../packages/client/generate/generate.js';
import { RESOURCE_TYPES, RSC, type WardenClient } from '../../packages/client/src/index.js';
import { ResourceRegistry } from '../../src/resources/registry.js';
import { RSC as WARDEN_RSC } from '../../src/primitive/rsc.js';

describe('client library types generated from the attribute tables', () => {
  it('the committed file is the generator output (run node dist/packages/client/generate/generate.js)', () => {
    const committed = readFileSync(GENERATED_FILE, 'utf8');
    const expected = renderClientTypes();
    if (committed !== expected) {
      const a = committed.split('\n');
      const b = expected.split('\n');
      const at = a.findIndex((line, i) => line !== b[i]);
      assert.fail(`packages/client/src/generated/resources.ts is stale from line ${at + 1}: committed '${a[at] ?? ''}', tables say '${b[at] ?? ''}'`);
    }
  });

  it('every non-announced type of the registry and every status code is in the compiled client', () => {
    const registry = new ResourceRegistry();
    for (const ty of registry.supportedTypes().filter((n) => n < 10_000)) {
      const definition = registry.get(ty);
      assert.ok(definition);
      const entry = (RESOURCE_TYPES as Record<string, { ty: number }>)[definition.typeName];
      assert.equal(entry?.ty, ty, definition.typeName);
    }
    assert.deepEqual(RSC, WARDEN_RSC);
  });

  it('the compiler refuses what the tables refuse (each line below must be a type error, or tsc fails)', () => {
    const misuse = (c: WardenClient): void => {
      // @ts-expect-error: ri is not permitted on CREATE (NP)
      void c.create('cse-in', 'm2m:cnt', { ri: 'mine' });
      // @ts-expect-error: an AE's api is mandatory on CREATE (M)
      void c.create('cse-in', 'm2m:ae', { rr: false });
      // @ts-expect-error: currentNrOfInstances is not permitted on UPDATE (NP)
      void c.update('cse-in/x', 'm2m:cnt', { cni: 1 });
      // @ts-expect-error: maxNrOfInstances is a number
      void c.create('cse-in', 'm2m:cnt', { mni: 'ten' });
      // @ts-expect-error: no such content name
      void c.retrieve('cse-in/x', 'm2m:nothing');
    };
    assert.equal(typeof misuse, 'function');
  });

  it('a changed table shows in the output', () => {
    const cnt = new ResourceRegistry().get(3);
    assert.ok(cnt);
    const changed = renderClientTypes(new ResourceRegistry([{ ...cnt, attributes: { ...cnt.attributes, mni: { type: 'string', create: 'M', update: 'NP' } } }]));
    assert.notEqual(changed, renderClientTypes(new ResourceRegistry([cnt])));
    assert.match(changed, /export interface ContainerCreate \{[^}]*\n {2}mni: string;/);
  });
});
