// Requests this CSE sends over CoAP (notifications to coap:// points of access): bounded in time and in answer size
// whatever the peer does (src/bindings/coap/server.ts sendCoap).
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { generate, parse } from 'coap-packet';
import { sendCoap } from '../../src/bindings/coap/server.js';

/** A peer that answers every request with a block of 1000 bytes and "more follow" (Block2 M=1), for ever. */
class EndlessBlocks {
  readonly socket: Socket = createSocket('udp4');
  requests = 0;

  async start(): Promise<number> {
    this.socket.on('message', (message, peer) => {
      this.requests++;
      const request = parse(message);
      const asked = request.options.find((o) => o.name === 'Block2')?.value;
      const num = asked && asked.length > 0 ? (asked.readUIntBE(0, asked.length) >> 4) : 0;
      // SZX 6: blocks of 1024 bytes; this one carries 1000, and says more follow.
      const block2 = Buffer.alloc(3);
      block2.writeUIntBE((num << 4) | 8 | 6, 0, 3);
      const answer = generate({ code: '2.05', ack: true, messageId: request.messageId, token: request.token, options: [{ name: 'Block2', value: block2 }], payload: Buffer.alloc(1000, 120) });
      this.socket.send(answer, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }
}

describe('CoAP requests to another party', () => {
  const peer = new EndlessBlocks();
  let port = 0;
  before(async () => {
    port = await peer.start();
  });
  after(() => peer.socket.close());

  it('stop asking for blocks once the answer is over 1 MiB or the time is up, and count as not reached (5103)', async () => {
    const answer = await sendCoap(new URL(`coap://127.0.0.1:${String(port)}/target`), { op: 5, to: 'target', fr: '/id-in', rqi: 'endless', rvi: '3', pc: { 'm2m:sgn': { vrq: true } } }, 30_000);
    assert.equal(answer.rsc, 5103);
    const asked = peer.requests;
    // 1 MiB in blocks of 1000 bytes: about 1049 requests, not one more than needed to pass the bound.
    assert.ok(asked <= 1_050, `asked ${String(asked)} blocks`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(peer.requests, asked, 'no block is asked for after the answer');
  });
});
