// A request body read within a byte bound: the oneM2M binding and the web console read theirs through it.
import type { IncomingMessage } from 'node:http';

export class BodyTooLarge extends Error {}

/** The body, refused (BodyTooLarge) beyond `limit` bytes, whether declared by Content-Length or sent. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Stop buffering; the response (with Connection: close) is written before the socket goes.
        req.removeAllListeners('data');
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
