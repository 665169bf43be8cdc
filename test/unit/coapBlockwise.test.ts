// What the CoAP binding keeps for block-wise transfers, bounded (src/bindings/coap/blockwise.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RemoteInfo } from 'node:dgram';
import coap from 'coap';
import type { ParsedPacket } from 'coap-packet';
import { Block1Reassembly, boundBlock2Cache, releaseAnswerBodies, type CoapDatagramHandler } from '../../src/bindings/coap/blockwise.js';

const peer = (address: string, port = 5000): RemoteInfo => ({ address, port, family: 'IPv4', size: 0 });
function block(token: string, num: number, more: boolean, payload: Buffer, szx = 2): ParsedPacket {
  const value = (num << 4) | (more ? 8 : 0) | szx;
  return { code: '0.02', confirmable: true, reset: false, ack: false, messageId: num, token: Buffer.from(token), options: [{ name: 'Block1', value: Buffer.from([value]) }], payload };
}

describe('CoAP Block1 reassembly', () => {
  it('forgets a transfer idle past its lifetime: its next block is out of order, and the slot is free again', () => {
    let now = 0;
    const reassembly = new Block1Reassembly({ maxBodyBytes: 4096, perPeer: 1, total: 8, totalBytes: 65_536, idleMs: 60_000 }, () => now);
    const sixtyFour = Buffer.alloc(64, 1);
    assert.equal(reassembly.take(block('a', 0, true, sixtyFour), peer('10.0.0.1')).kind, 'continue');
    assert.equal(reassembly.take(block('b', 0, true, sixtyFour), peer('10.0.0.1')).kind, 'refuse', 'one transfer per peer here');
    assert.equal(reassembly.take(block('c', 0, true, sixtyFour), peer('10.0.0.2')).kind, 'continue', 'another peer has its own');
    now = 60_001;
    const late = reassembly.take(block('a', 1, false, Buffer.from('end')), peer('10.0.0.1'));
    assert.deepEqual([late.kind, late.kind === 'refuse' ? late.code : ''], ['refuse', '4.08']);
    assert.equal(reassembly.pending, 0);
    assert.equal(reassembly.take(block('b', 0, true, sixtyFour), peer('10.0.0.1')).kind, 'continue');
  });

  it('joins the blocks in order, takes a retransmitted block once, and holds no more bytes than allowed in all', () => {
    const reassembly = new Block1Reassembly({ maxBodyBytes: 4096, perPeer: 4, total: 8, totalBytes: 192, idleMs: 60_000 });
    const from = peer('10.0.0.3');
    assert.equal(reassembly.take(block('x', 0, true, Buffer.alloc(64, 0x61)), from).kind, 'continue');
    assert.equal(reassembly.take(block('x', 0, true, Buffer.alloc(64, 0x61)), from).kind, 'continue', 'the first block again');
    assert.equal(reassembly.take(block('x', 1, true, Buffer.alloc(64, 0x62)), from).kind, 'continue');
    assert.equal(reassembly.take(block('x', 1, true, Buffer.alloc(64, 0x62)), from).kind, 'continue', 'block 1 again');
    assert.equal(reassembly.take(block('y', 0, true, Buffer.alloc(64, 0x63)), from).kind, 'continue');
    const full = reassembly.take(block('z', 0, true, Buffer.alloc(64, 0x64)), from);
    assert.deepEqual([full.kind, full.kind === 'refuse' ? full.code : ''], ['refuse', '5.03'], '192 bytes are held already');
    const done = reassembly.take(block('x', 2, false, Buffer.from('!')), from);
    assert.equal(done.kind, 'complete');
    assert.equal(done.kind === 'complete' ? done.body.toString() : '', `${'a'.repeat(64)}${'b'.repeat(64)}!`);
    assert.equal(reassembly.take(block('z', 0, true, Buffer.alloc(64, 0x64)), from).kind, 'continue', 'room again');
  });
});

describe('CoAP answers kept for block-wise reading', () => {
  it('the Block2 cache holds at most its entries and bytes, the oldest dropped first', () => {
    const entries = new Map<unknown, { buffer?: Buffer; options: Array<{ name: unknown; value: unknown }> }>();
    const server = {
      _handle: () => undefined,
      _block2Cache: {
        get: (key: unknown) => entries.get(key),
        add: (key: unknown, payload: { buffer?: Buffer; options: Array<{ name: unknown; value: unknown }> }) => void entries.set(key, payload),
        remove: (key: unknown) => entries.delete(key),
      },
    } satisfies CoapDatagramHandler;
    boundBlock2Cache(server, { entries: 3, bytes: 2500 });
    for (let i = 0; i < 10; i++) server._block2Cache.add(`k${i}`, { buffer: Buffer.alloc(1000), options: [] });
    assert.deepEqual([...entries.keys()], ['k8', 'k9'], 'two answers of 1000 bytes fit in 2500');
    for (let i = 10; i < 20; i++) server._block2Cache.add(`k${i}`, { buffer: Buffer.alloc(10), options: [] });
    assert.deepEqual([...entries.keys()], ['k17', 'k18', 'k19']);
    // Serving a block caches the answer again without options: the first block's options stay.
    server._block2Cache.get('k19')?.options.push({ name: '307', value: Buffer.from([7, 208]) });
    server._block2Cache.add('k19', { buffer: Buffer.alloc(10), options: [] });
    assert.equal(entries.get('k19')?.options.length, 1);
  });

  it('an answer stream lets go of what was written to it once the datagram is made', () => {
    releaseAnswerBodies();
    const request = { token: Buffer.from('t'), messageId: 1, confirmable: false, options: [] };
    const sent: Buffer[] = [];
    const answer = new coap.OutgoingMessage(request, (_message: unknown, packet: { payload?: { slice(): Buffer } }) => {
      sent.push(Buffer.from(packet.payload?.slice() ?? Buffer.alloc(0)));
    });
    // As node-coap's server makes each answer (a client's request keeps its content for its blocks and retries).
    Object.assign(answer, { _addCacheEntry: () => undefined });
    const whole = Buffer.alloc(900_000, 0x78);
    answer.end(whole.subarray(0, 1024));
    assert.equal(sent[0]?.length, 1024, 'the datagram was made from the content');
    assert.equal((answer as unknown as { length: number }).length, 0, 'nothing of the 900 KB answer is held');
    const request2 = new coap.OutgoingMessage(request, () => undefined);
    request2.end(Buffer.from('kept'));
    assert.equal((request2 as unknown as { length: number }).length, 4, "a client's request keeps its content");
  });
});
