import { RSC, type Rsc } from './rsc.js';

/**
 * The one error type of the CSE. Stages throw it; `handle()` converts it into a response once.
 * The message is shown to the client in `m2m:dbg`, so it must never carry secrets or stack traces.
 */
export class CseError extends Error {
  readonly rsc: Rsc;
  /** Seconds after which the same request may succeed (a rate limit); bindings that can carry it do. */
  readonly retryAfter: number | undefined;
  /** Content the error response carries instead of m2m:dbg (the Token Request Information of a 4103). */
  readonly content: Record<string, unknown> | undefined;

  constructor(rsc: Rsc, message: string, retryAfter?: number, content?: Record<string, unknown>) {
    super(message);
    this.name = 'CseError';
    this.rsc = rsc;
    this.retryAfter = retryAfter;
    this.content = content;
  }
}

export const badRequest = (message: string): CseError => new CseError(RSC.BAD_REQUEST, message);
export const notFound = (message: string): CseError => new CseError(RSC.NOT_FOUND, message);
export const noPrivilege = (message: string): CseError => new CseError(RSC.ORIGINATOR_HAS_NO_PRIVILEGE, message);
export const notAllowed = (message: string): CseError => new CseError(RSC.OPERATION_NOT_ALLOWED, message);

/** A name the request gave, as an error message quotes it: the first 64 characters (a 500 kB name came back whole). */
export function quotedName(name: string): string {
  if (name.length <= 64) return name;
  // Never half a surrogate pair: a lone surrogate is no XML character.
  const end = /[\uD800-\uDBFF]/.test(name.charAt(63)) ? 63 : 64;
  return `${name.slice(0, end)}…`;
}
