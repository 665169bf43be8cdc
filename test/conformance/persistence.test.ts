import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { spawnWarden, startTestCse, stopWarden, tempDatabase } from '../harness.js';

type Attrs = Record<string, unknown>;

describe('persistence', () => {
  it('keeps resources across a restart of the CSE', async () => {
    const storage = tempDatabase();
    const first = await startTestCse({ 'storage.path': storage });
    const ae = await first.client.registerAe('durable');
    await first.client.create('/cse-in/durable', 3, { 'm2m:cnt': { rn: 'log', mni: 5 } }, ae);
    await first.client.create('/cse-in/durable/log', 4, { 'm2m:cin': { con: 'kept' } }, ae);
    await first.close();
    const second = await startTestCse({ 'storage.path': storage });
    try {
      const latest = await second.client.retrieve('/cse-in/durable/log/la', ae);
      assert.equal((latest.body?.['m2m:cin'] as Attrs).con, 'kept');
      assert.equal(((await second.client.retrieve('/cse-in/durable/log', ae)).body?.['m2m:cnt'] as Attrs).cni, 1);
      assert.equal((await second.client.create('/cse-in', 2, { 'm2m:ae': { api: 'Nx', rr: false, srv: ['3'] } }, ae)).rsc, 4117);
    } finally {
      await second.close();
    }
  });

  it('an acknowledged CREATE survives kill -9 of the process', async () => {
    const storage = tempDatabase();
    const first = await spawnWarden([`--storage.path=${storage}`]);
    const ae = await first.client.registerAe('crashy');
    await first.client.create('/cse-in/crashy', 3, { 'm2m:cnt': { rn: 'c' } }, ae);
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      const reply = await first.client.create('/cse-in/crashy/c', 4, { 'm2m:cin': { rn: `i${i}`, con: `v${i}` } }, ae);
      if (reply.rsc === 2001) acked.push(`i${i}`);
    }
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const second = await spawnWarden([`--storage.path=${storage}`]);
    try {
      for (const rn of acked) assert.equal((await second.client.retrieve(`/cse-in/crashy/c/${rn}`, ae)).rsc, 2000, rn);
      assert.equal(((await second.client.retrieve('/cse-in/crashy/c', ae)).body?.['m2m:cnt'] as Attrs).cni, acked.length);
    } finally {
      await stopWarden(second.child);
    }
  });
});
