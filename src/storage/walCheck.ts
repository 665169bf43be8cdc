// A look at a SQLite write-ahead log before SQLite recovers it. SQLite replays the WAL's frames up to the first one
// whose checksum or salt does not match and silently drops the rest (https://sqlite.org/fileformat.html §4): after a
// crash that is a torn tail, transactions never acknowledged. But a damaged frame in the middle (a bad disk, a flipped
// bit) makes SQLite drop committed, acknowledged transactions behind it, and nothing says so; the next checkpoint then
// deletes the WAL and the evidence with it (found by a probe: 23 of 40 acknowledged instances gone, no log line).
// Here the WAL is read first: a commit frame of the same WAL generation behind the first bad frame means acknowledged
// data is about to be lost. The CSE still starts (an unattended device must come back), but the WAL is kept aside for
// recovery and the loss is logged as an error.
import { copyFileSync, closeSync, openSync, readSync } from 'node:fs';

const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;

export interface WalDamage {
  /** Frames SQLite will replay (the valid prefix). */
  readonly validFrames: number;
  /** Commit frames of this WAL from the first bad frame on, but the newest (perhaps never acknowledged): transactions SQLite will drop. */
  readonly commitsLost: number;
  /** Where the WAL was copied before SQLite opened the database. */
  readonly keptAt: string;
}

/** The checksum of SQLite's WAL over `bytes` (a multiple of 8), continuing from s0, s1. */
function checksum(bytes: Buffer, bigEndian: boolean, s0: number, s1: number): [number, number] {
  for (let i = 0; i < bytes.length; i += 8) {
    const x0 = bigEndian ? bytes.readUInt32BE(i) : bytes.readUInt32LE(i);
    const x1 = bigEndian ? bytes.readUInt32BE(i + 4) : bytes.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

/** Reads `into.length` bytes at `at`; false at the end of the file (a partial frame is no frame). */
function readFully(fd: number, into: Buffer, at: number): boolean {
  let got = 0;
  while (got < into.length) {
    const read = readSync(fd, into, got, into.length - got, at + got);
    if (read === 0) return false;
    got += read;
  }
  return true;
}

/**
 * Checks `<database>-wal`; when acknowledged transactions lie behind a damaged frame, copies it to
 * `<database>-wal.damaged-<now>` and says so. Undefined when the WAL is absent, intact, or only torn at its tail.
 */
export function checkWal(databasePath: string, now: number): WalDamage | undefined {
  const walPath = `${databasePath}-wal`;
  let fd: number;
  try {
    fd = openSync(walPath, 'r');
  } catch {
    return undefined; // no WAL: nothing to recover
  }
  let found: { validFrames: number; commitsLost: number } | undefined;
  try {
    found = scan(fd);
  } finally {
    closeSync(fd);
  }
  if (!found) return undefined;
  const keptAt = `${walPath}.damaged-${now}`;
  copyFileSync(walPath, keptAt);
  return { ...found, keptAt };
}

/**
 * The WAL one frame at a time (a WAL after a crash under load may be large; one frame's buffer is all it takes):
 * the valid prefix, then the commit frames of this generation behind it.
 */
function scan(fd: number): { validFrames: number; commitsLost: number } | undefined {
  const header = Buffer.alloc(WAL_HEADER_BYTES);
  if (!readFully(fd, header, 0)) return undefined;
  const magic = header.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return undefined; // not a WAL SQLite would replay either
  const bigEndian = magic === 0x377f0683;
  const pageSize = header.readUInt32BE(8);
  if (pageSize < 512 || pageSize > 65_536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const salt1 = header.readUInt32BE(16);
  const salt2 = header.readUInt32BE(20);
  let [s0, s1] = checksum(header.subarray(0, 24), bigEndian, 0, 0);
  const headerValid = s0 === header.readUInt32BE(24) && s1 === header.readUInt32BE(28);
  const frameBytes = FRAME_HEADER_BYTES + pageSize;
  const frame = Buffer.alloc(frameBytes);
  const frameAt = (k: number): number => WAL_HEADER_BYTES + k * frameBytes;
  let validFrames = 0;
  let k = 0;
  let read = readFully(fd, frame, frameAt(0));
  if (headerValid) {
    for (; read; read = readFully(fd, frame, frameAt(++k))) {
      if (frame.readUInt32BE(8) !== salt1 || frame.readUInt32BE(12) !== salt2) break;
      [s0, s1] = checksum(frame.subarray(0, 8), bigEndian, s0, s1);
      [s0, s1] = checksum(frame.subarray(FRAME_HEADER_BYTES), bigEndian, s0, s1);
      if (s0 !== frame.readUInt32BE(16) || s1 !== frame.readUInt32BE(20)) break;
      validFrames++;
    }
  }
  // From the break on: commit frames (a database size after commit) that carry this WAL's salts were written in this
  // generation, after the frames SQLite will keep; the first bad frame itself may be one. The newest of them may be a
  // transaction whose commit was still being synced when the machine stopped (its frames reach the disk in any
  // order), never acknowledged: it is not counted. A damaged header hides the salts; the frames then count by their
  // own agreement (every later frame carrying the same salts as the first).
  let want: [number, number] | undefined = headerValid ? [salt1, salt2] : undefined;
  let commitsBehind = 0;
  for (; read; read = readFully(fd, frame, frameAt(++k))) {
    want ??= [frame.readUInt32BE(8), frame.readUInt32BE(12)];
    if (frame.readUInt32BE(8) === want[0] && frame.readUInt32BE(12) === want[1] && frame.readUInt32BE(4) !== 0) commitsBehind++;
  }
  const commitsLost = commitsBehind - 1;
  return commitsLost < 1 ? undefined : { validFrames, commitsLost };
}
