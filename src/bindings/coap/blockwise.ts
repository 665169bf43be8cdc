// Block-wise request bodies (Block1, RFC 7959) reassembled by Warden, within limits, before node-coap sees the request.
import { randomInt } from 'node:crypto';
import type { RemoteInfo, Socket } from 'node:dgram';
import coap from 'coap';
import { generate, type ParsedPacket } from 'coap-packet';
import { readUint, uint } from './uint.js';

/** What node-coap keeps private and this module wraps: its entry point for every datagram, and its socket. */
export interface CoapDatagramHandler {
  _sock?: Socket | null;
  _handle: (packet: ParsedPacket, rsinfo: RemoteInfo) => void;
  _block2Cache: {
    get(key: unknown): CachedAnswer | undefined;
    add(key: unknown, payload: CachedAnswer): void;
    remove(key: unknown): boolean;
  };
}

/** An answer node-coap keeps to serve block by block, with the options it repeats in each block. */
interface CachedAnswer {
  buffer?: Buffer;
  options: Array<{ name: unknown; value: unknown }>;
}

export interface BlockwiseLimits {
  /** Largest reassembled body (the binding's maxBodyBytes). */
  readonly maxBodyBytes: number;
  /** Unfinished transfers one peer address may hold. */
  readonly perPeer: number;
  /** Unfinished transfers held at once, and the bytes they hold. */
  readonly total: number;
  readonly totalBytes: number;
  /** How long an unfinished transfer is kept after its last block (ms). */
  readonly idleMs: number;
}

export const BLOCKWISE_LIMITS: BlockwiseLimits = { maxBodyBytes: 1_048_576, perPeer: 4, total: 64, totalBytes: 8 * 1_048_576, idleMs: 60_000 };

interface Transfer {
  readonly address: string;
  readonly szx: number;
  next: number;
  bytes: number;
  readonly chunks: Buffer[];
  lastSeen: number;
}

type Verdict = { kind: 'pass' } | { kind: 'complete'; body: Buffer; last: Buffer } | { kind: 'continue' } | { kind: 'refuse'; code: string; message: string; size1?: number };

/** Past these, a new transfer waits (5.03): the limits of one peer, or of all together. */
const BUSY: Verdict = { kind: 'refuse', code: '5.03', message: 'too many unfinished block-wise transfers; try again later' };

/**
 * node-coap reassembles Block1 bodies itself, without any limit: every first block with a new token is kept for
 * EXCHANGE_LIFETIME (247 s) whatever its size, so a stream of datagrams from anywhere grows the heap by gigabytes;
 * and a final block whose predecessors never came makes it allocate the whole claimed body and then throw (5.00).
 * Here each transfer is kept per peer address, port and token, in order, within the body limit, a few per peer and
 * some dozens in all, and forgotten a minute after its last block; node-coap then sees a request with its whole body
 * and no Block1 option. Answers follow RFC 7959: 2.31 Continue for each block before the last (echoing its Block1),
 * 4.08 Request Entity Incomplete for a block out of order, 4.13 with Size1 for a body over the limit (§2.9).
 */
export class Block1Reassembly {
  private readonly transfers = new Map<string, Transfer>();
  private heldBytes = 0;

  constructor(
    private readonly limits: BlockwiseLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get pending(): number {
    return this.transfers.size;
  }

  take(packet: ParsedPacket, rsinfo: RemoteInfo): Verdict {
    const option = packet.options.find((o) => o.name === 'Block1');
    if (!option) return { kind: 'pass' };
    if (option.value.length > 3) return { kind: 'refuse', code: '4.00', message: 'the Block1 option is longer than 3 bytes' };
    const v = readUint(option.value);
    const num = Math.floor(v / 16);
    const more = (v & 8) !== 0;
    const szx = v & 7;
    // SZX 7 is reserved (RFC 7959 §2.2; BERT only over reliable transports, RFC 8323).
    if (szx === 7) return { kind: 'refuse', code: '4.00', message: 'Block1 size exponent 7 is reserved' };
    const size = 2 ** (szx + 4);
    const payload = packet.payload;
    const key = `${rsinfo.address}|${rsinfo.port}|${packet.token.toString('hex')}`;
    this.forgetIdle();
    if (num * size + payload.length > this.limits.maxBodyBytes) {
      this.drop(key);
      return { kind: 'refuse', code: '4.13', message: `the request body exceeds ${this.limits.maxBodyBytes} bytes`, size1: this.limits.maxBodyBytes };
    }
    if (more ? payload.length !== size : payload.length > size) {
      this.drop(key);
      return { kind: 'refuse', code: '4.00', message: `a block ${more ? 'before the last must hold exactly' : 'may hold at most'} its size (${size} bytes)` };
    }
    let transfer = this.transfers.get(key);
    if (num === 0) {
      if (!more) {
        this.drop(key);
        return { kind: 'complete', body: payload, last: option.value };
      }
      // A retransmitted first block: answered again, kept once.
      if (transfer && transfer.next === 1 && transfer.szx === szx) return this.touch(key, transfer);
      this.drop(key);
      const refusal = this.admit(rsinfo.address, payload.length);
      if (refusal) return refusal;
      transfer = { address: rsinfo.address, szx, next: 0, bytes: 0, chunks: [], lastSeen: 0 };
    } else {
      // Blocks arrive in order (each waits for the previous one's 2.31); one already taken is a retransmission.
      if (transfer && num === transfer.next - 1 && more && transfer.szx === szx) return this.touch(key, transfer);
      if (!transfer || num !== transfer.next || transfer.szx !== szx) {
        this.drop(key);
        return { kind: 'refuse', code: '4.08', message: `block ${num} does not follow the blocks received for this request` };
      }
      // The last block ends the transfer and frees what it holds: only blocks that wait for more count against the total.
      if (more && this.heldBytes + payload.length > this.limits.totalBytes) {
        this.drop(key);
        return BUSY;
      }
    }
    this.transfers.delete(key);
    transfer.chunks.push(payload);
    transfer.bytes += payload.length;
    this.heldBytes += payload.length;
    transfer.next = num + 1;
    if (!more) {
      this.heldBytes -= transfer.bytes;
      return { kind: 'complete', body: Buffer.concat(transfer.chunks), last: option.value };
    }
    return this.touch(key, transfer);
  }

  /** Keeps the transfer, most recently active last (so the idle ones are found first). */
  private touch(key: string, transfer: Transfer): Verdict {
    this.transfers.delete(key);
    transfer.lastSeen = this.now();
    this.transfers.set(key, transfer);
    return { kind: 'continue' };
  }

  private admit(address: string, bytes: number): Verdict | undefined {
    let fromPeer = 0;
    for (const t of this.transfers.values()) if (t.address === address) fromPeer++;
    const full = fromPeer >= this.limits.perPeer || this.transfers.size >= this.limits.total || this.heldBytes + bytes > this.limits.totalBytes;
    return full ? BUSY : undefined;
  }

  private drop(key: string): void {
    const transfer = this.transfers.get(key);
    if (!transfer) return;
    this.heldBytes -= transfer.bytes;
    this.transfers.delete(key);
  }

  private forgetIdle(): void {
    const before = this.now() - this.limits.idleMs;
    for (const [key, transfer] of this.transfers) {
      if (transfer.lastSeen > before) break;
      this.drop(key);
    }
  }
}

/** The Block1 option of a reassembled request's last block, by the packet node-coap builds its request from. */
const lastBlocks = new WeakMap<object, Buffer>();

/**
 * The Block1 option the final answer to a block-wise request carries: the last block's number and size (RFC 7959
 * §2.3). Clients wait for it before they take the answer as final (node-coap's sends the last block again otherwise).
 */
export function lastBlock1Of(request: unknown): Buffer | undefined {
  const packet = (request as { _packet?: unknown })._packet;
  return typeof packet === 'object' && packet !== null ? lastBlocks.get(packet) : undefined;
}

/** Puts the reassembly in front of node-coap's datagram handler; its answers go straight back to the sender. */
export function reassembleBlock1(server: CoapDatagramHandler, limits: BlockwiseLimits): Block1Reassembly {
  const reassembly = new Block1Reassembly(limits);
  const handle = server._handle.bind(server);
  server._handle = (packet, rsinfo) => {
    // Only requests carry a body to reassemble; node-coap ignores the rest itself.
    if (!packet.code.startsWith('0.') || packet.ack || packet.reset) return handle(packet, rsinfo);
    const verdict = reassembly.take(packet, rsinfo);
    if (verdict.kind === 'pass') return handle(packet, rsinfo);
    if (verdict.kind === 'complete') {
      packet.payload = verdict.body;
      packet.options = packet.options.filter((o) => o.name !== 'Block1');
      lastBlocks.set(packet, verdict.last);
      return handle(packet, rsinfo);
    }
    const options = verdict.kind === 'continue' ? packet.options.filter((o) => o.name === 'Block1') : verdict.size1 === undefined ? [] : [{ name: 'Size1' as const, value: uint(verdict.size1) }];
    const answer = generate({
      code: verdict.kind === 'continue' ? '2.31' : verdict.code,
      // A confirmable block is acknowledged with the answer piggybacked; a non-confirmable one gets a message of its own.
      ...(packet.confirmable ? { ack: true, messageId: packet.messageId } : { confirmable: false, messageId: randomInt(0, 65_536) }),
      token: packet.token,
      options,
      payload: verdict.kind === 'refuse' ? Buffer.from(verdict.message) : Buffer.alloc(0),
    });
    server._sock?.send(answer, rsinfo.port, rsinfo.address);
  };
  return reassembly;
}

/** Options node-coap writes per block itself. */
const PER_BLOCK = new Set(['Block2', 'ETag', 'Size2', 'Block1']);

/**
 * node-coap serves an answer longer than one datagram block by block (Block2) from a cache, and copies into the later
 * blocks only the options it saw when the request was handed over, before Warden's handler (which answers
 * asynchronously) had set any; and serving a block puts the answer in the cache again, without them. Every block after
 * the first came without the oneM2M options, RSC and Request-ID among them, and a client that takes the last block's
 * options (node-coap's does) read no status. Called right after the answer is ended (which caches it), this gives the
 * cached answer the first block's options; `boundBlock2Cache` keeps them when a block is served.
 */
export function keepBlock2Options(server: CoapDatagramHandler, res: unknown): void {
  const response = res as { _cachekey?: unknown; _packet?: { options?: CachedAnswer['options'] } };
  if (response._cachekey === undefined) return;
  const cached = server._block2Cache.get(response._cachekey);
  if (!cached || cached.options.length > 0) return;
  for (const option of response._packet?.options ?? []) if (!PER_BLOCK.has(String(option.name))) cached.options.push(option);
}

/** Answers kept for block-wise reading at once, and their bytes: the oldest go first. */
export const BLOCK2_CACHE_LIMITS = { entries: 256, bytes: 32 * 1_048_576 } as const;

/**
 * node-coap keeps every answer longer than one block for EXCHANGE_LIFETIME (247 s), one per token, without a bound:
 * 2 000 GETs of one 900 KB instance, each with a new token, held 1.3 GB. Here the cache keeps at most
 * BLOCK2_CACHE_LIMITS, dropping the oldest answers (a later block of a dropped answer makes node-coap run the request
 * again and cut the block from the new answer), and keeps an answer's options when it serves a block from it (which
 * puts the answer in the cache again, without them).
 */
export function boundBlock2Cache(server: CoapDatagramHandler, limits: { entries: number; bytes: number } = BLOCK2_CACHE_LIMITS): void {
  const cache = server._block2Cache;
  const add = cache.add.bind(cache);
  const remove = cache.remove.bind(cache);
  const sizes = new Map<unknown, number>();
  let bytes = 0;
  const forget = (key: unknown): void => {
    bytes -= sizes.get(key) ?? 0;
    sizes.delete(key);
  };
  cache.add = (key, payload) => {
    const before = cache.get(key);
    if (before && payload.options.length === 0) payload.options = before.options;
    forget(key);
    const size = payload.buffer?.length ?? 0;
    for (const [oldest] of sizes) {
      if (sizes.size < limits.entries && bytes + size <= limits.bytes) break;
      forget(oldest);
      remove(oldest);
    }
    sizes.set(key, size);
    bytes += size;
    add(key, payload);
  };
  cache.remove = (key) => {
    forget(key);
    return remove(key);
  };
}

let releasing = false;

/**
 * node-coap keeps every answer message it sent for EXCHANGE_LIFETIME (its duplicate cache, up to 32 MiB of datagrams),
 * and with it the answer stream, which still holds what was written to it: for a block of a large answer, a view of the
 * whole answer. 2 000 reads of a 900 KB instance, one block each, held 1.3 GB that way. Once the datagram is made the
 * stream's content is no longer needed, so it is let go as soon as the answer is ended.
 */
export function releaseAnswerBodies(): void {
  if (releasing) return;
  releasing = true;
  const prototype = coap.OutgoingMessage.prototype as unknown as { end: (...args: unknown[]) => unknown; consume(bytes: number): unknown; length: number; _addCacheEntry?: unknown };
  const end = prototype.end;
  prototype.end = function (this: typeof prototype, ...args: unknown[]) {
    const result = end.apply(this, args);
    // Only a server's answer (node-coap's server gives each one _addCacheEntry): a client's request stream is read again
    // for its blocks and retransmissions.
    if (this._addCacheEntry !== undefined) this.consume(this.length);
    return result;
  };
}
