// A discovery decides on slim rows (SearchQuery.slim: the columns and DISCOVERY_ATTRIBUTES of each document) and
// reuses a grant for siblings governed by the same parent (DecisionMemo): both must decide exactly as a decision on
// the whole resource, one row at a time, does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { ResourceRegistry } from '../../src/resources/registry.js';
import { RESOURCE_TYPE } from '../../src/resources/types.js';
import { ACCESS_OPERATION } from '../../src/security/acp.js';
import { AccessDecider, DecisionMemo, type Asker } from '../../src/security/authorize.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import type { ResourceStore, StoredResource } from '../../src/storage/store.js';

const TS = '20260101T000000';
const self = { cseId: 'id-in', cseRn: 'cse-in', spId: 'warden.example.net' };

describe('access decisions on slim discovery rows, and grants shared by siblings', () => {
  let store: ResourceStore;
  let decider: AccessDecider;
  const insert = async (ri: string, parent: StoredResource | undefined, ty: number, doc: Record<string, unknown>, owner?: string): Promise<StoredResource> => {
    const rn = parent ? ri : self.cseRn;
    return store.insert({ ri, pi: parent?.ri ?? '', ty, rn, srn: parent ? `${parent.srn}/${rn}` : rn, ct: TS, lt: TS, doc, ...(owner === undefined ? {} : { owner }) });
  };

  before(async () => {
    store = openSqliteStore({ path: ':memory:', durability: 'normal' });
    const config = loadConfig({ flags: { 'security.admin': 'CAdmin' } });
    decider = new AccessDecider(config, self, store, new ResourceRegistry());
    const cse = await insert('id-in', undefined, RESOURCE_TYPE.CSEBase, {});
    const ae = await insert('Cowner', cse, RESOURCE_TYPE.AE, { api: 'Nowner', __creator: 'Cowner' }, 'Cowner');
    const pv = { acr: [{ acor: ['Cvisitor'], acop: 32 }, { acor: ['Cowner'], acop: 63 }] };
    const policy = await insert('acpSeeing', ae, RESOURCE_TYPE.accessControlPolicy, { pv, pvs: { acr: [{ acor: ['Cvisitor'], acop: 32 }] }, __creator: 'Cowner' }, 'Cowner');
    const open = await insert('open', ae, RESOURCE_TYPE.container, { acpi: [policy.ri], __creator: 'Cowner' }, 'Cowner');
    const closed = await insert('closed', ae, RESOURCE_TYPE.container, { __creator: 'Cowner' }, 'Cowner');
    const kept = await insert('kept', ae, RESOURCE_TYPE.container, { cstn: 'Ccustodian', __creator: 'Cowner' }, 'Cowner');
    // Siblings of one parent interleaved with those of others, as a page of a discovery reads them.
    for (let i = 0; i < 4; i++) {
      for (const container of [open, closed, kept]) await insert(`${container.ri}-i${i}`, container, RESOURCE_TYPE.contentInstance, { con: 'x', cs: 1, __creator: 'Cowner' }, 'Cowner');
    }
    await insert('pch', ae, RESOURCE_TYPE.pollingChannel, { __creator: 'Cowner' }, 'Cowner');
    await insert('sub', open, RESOURCE_TYPE.subscription, { acpi: [policy.ri], nu: ['Cowner'], __creator: 'Cowner' }, 'Cowner');
  });
  after(() => store.close());

  const askers = ['Cowner', 'Cvisitor', 'Ccustodian', 'Cstranger', 'CAdmin', ''].map(
    (originator): Asker => ({ originator, authenticated: false, roleIds: [], operation: ACCESS_OPERATION.DISCOVERY, ip: '127.0.0.1', time: Date.UTC(2026, 0, 2) }),
  );

  it('decides on a slim row exactly as on the whole resource, and with a memo as without', async () => {
    const query = { below: 'cse-in', aliveAt: 0, limit: 100, operation: 'and' } as const;
    const slim = await store.search({ ...query, slim: decider.discoveryView() });
    const whole = await store.search(query);
    assert.equal(slim.length, whole.length);
    assert.ok(slim.some((r) => r.ty === RESOURCE_TYPE.contentInstance && Object.keys(r.doc).length === 0), 'instances are read bare');
    let granted = 0;
    let refused = 0;
    for (const asker of askers) {
      const memo = new DecisionMemo(asker);
      for (const [i, row] of slim.entries()) {
        const resource = whole[i] as StoredResource;
        const expected = await decider.decide({ ...asker, resource });
        const onSlim = await decider.decide({ ...asker, resource: row });
        const withMemo = await decider.decide({ ...asker, resource: row, memo });
        const label = `${asker.originator || '(none)'} on ${resource.ri}`;
        assert.deepEqual(onSlim, expected, label);
        assert.deepEqual(withMemo, expected, `${label}, with the memo`);
        const remembered = decider.remembered(memo, row);
        if (remembered) assert.deepEqual(remembered, expected, `${label}, remembered`);
        if (expected.granted) granted++;
        else refused++;
      }
    }
    assert.ok(granted > 20 && refused > 20, `both answers occur (${granted} granted, ${refused} refused)`);
  });

  it('shares a grant only with siblings of the same type under the same parent, and only for its asker', async () => {
    const [owner, visitor] = askers as [Asker, Asker];
    const memo = new DecisionMemo(visitor);
    const row = (ri: string): Promise<StoredResource> => store.get(ri).then((r) => r as StoredResource);
    assert.equal((await decider.decide({ ...visitor, resource: await row('open-i0'), memo })).granted, true);
    assert.ok(decider.remembered(memo, await row('open-i3')), 'a sibling of the same type');
    assert.equal(decider.remembered(memo, await row('closed-i0')), undefined, 'another parent');
    assert.equal(decider.remembered(memo, await row('sub')), undefined, 'a type with acpi of its own');
    assert.equal((await decider.decide({ ...visitor, resource: await row('closed-i0'), memo })).granted, false);
    assert.equal(decider.remembered(memo, await row('closed-i1')), undefined, 'refusals are not remembered');
    // Another asker's question neither uses nor fills the memo.
    assert.equal((await decider.decide({ ...owner, resource: await row('closed-i1'), memo })).granted, true);
    assert.equal(decider.remembered(memo, await row('closed-i2')), undefined);
    assert.equal((await decider.decide({ ...visitor, resource: await row('closed-i2'), memo })).granted, false);
  });
});
