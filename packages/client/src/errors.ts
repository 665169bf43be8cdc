// What can go wrong, as types an AE can branch on: the CSE refused (OneM2MError and a class per common RSC),
// or the CSE could not be heard properly (timeout, closed connection, an answer that is no oneM2M response).
import { RSC } from './generated/resources.js';

export type RscName = keyof typeof RSC;

const NAMES = new Map<number, RscName>(Object.entries(RSC).map(([name, code]) => [code, name as RscName]));

/** The name of a response status code (`NOT_FOUND` for 4004), or undefined for a code Warden does not know. */
export function rscName(rsc: number): RscName | undefined {
  return NAMES.get(rsc);
}

/** Base class of every error the client throws. */
export class WardenClientError extends Error {
  override name = 'WardenClientError';
}

/** The CSE answered with an error status (4xxx, 5xxx, 6xxx). `rsc` is the response status code. */
export class OneM2MError extends WardenClientError {
  override name = 'OneM2MError';
  readonly rscName: RscName | undefined;
  constructor(
    readonly rsc: number,
    message: string,
    /** The request identifier of the refused request. */
    readonly rqi: string,
    /** The response content, when the CSE sent more than a debug message. */
    readonly content?: Record<string, unknown>,
  ) {
    super(`${rsc} ${rscName(rsc) ?? 'UNKNOWN'}${message ? `: ${message}` : ''}`);
    this.rscName = rscName(rsc);
  }

  /** Whether this is the given status, by code or name: `err.is('NOT_FOUND')`. */
  is(rsc: number | RscName): boolean {
    return typeof rsc === 'number' ? this.rsc === rsc : this.rsc === RSC[rsc];
  }
}

export class BadRequestError extends OneM2MError {
  override name = 'BadRequestError';
}
export class NotFoundError extends OneM2MError {
  override name = 'NotFoundError';
}
export class OperationNotAllowedError extends OneM2MError {
  override name = 'OperationNotAllowedError';
}
export class RequestTimeoutError extends OneM2MError {
  override name = 'RequestTimeoutError';
}
/** 4103: the originator has no privilege for the operation on the target. */
export class NoPrivilegeError extends OneM2MError {
  override name = 'NoPrivilegeError';
}
/** 4105: a resource of that name exists already. */
export class ConflictError extends OneM2MError {
  override name = 'ConflictError';
}
/** 4106 / 4107: the originator is not authenticated, or a secure association is required. */
export class NotAuthenticatedError extends OneM2MError {
  override name = 'NotAuthenticatedError';
}
/** 4141: a rate or quota limit; `retry` later. */
export class LimitExceededError extends OneM2MError {
  override name = 'LimitExceededError';
}
/** 5xxx / 6xxx: the CSE (or a CSE or entity behind it) failed. */
export class ServerError extends OneM2MError {
  override name = 'ServerError';
}

type ErrorClass = new (rsc: number, message: string, rqi: string, content?: Record<string, unknown>) => OneM2MError;

const CLASSES = new Map<number, ErrorClass>([
  [RSC.BAD_REQUEST, BadRequestError],
  [RSC.CONTENTS_UNACCEPTABLE, BadRequestError],
  [RSC.NOT_FOUND, NotFoundError],
  [RSC.OPERATION_NOT_ALLOWED, OperationNotAllowedError],
  [RSC.REQUEST_TIMEOUT, RequestTimeoutError],
  [RSC.ORIGINATOR_HAS_NO_PRIVILEGE, NoPrivilegeError],
  [RSC.SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE, NoPrivilegeError],
  [RSC.CONFLICT, ConflictError],
  [RSC.ORIGINATOR_NOT_AUTHENTICATED, NotAuthenticatedError],
  [RSC.SECURITY_ASSOCIATION_REQUIRED, NotAuthenticatedError],
  [RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, LimitExceededError],
]);

/** The typed error for an error response: the class of its RSC, else by class of status. */
export function errorFor(rsc: number, pc: Record<string, unknown> | undefined, rqi: string): OneM2MError {
  const debug = pc?.['m2m:dbg'];
  const message = typeof debug === 'string' ? debug : '';
  const Class = CLASSES.get(rsc) ?? (rsc >= 5000 ? ServerError : OneM2MError);
  const content = pc !== undefined && !(Object.keys(pc).length === 1 && typeof debug === 'string') ? pc : undefined;
  return new Class(rsc, message, rqi, content);
}

/** No answer arrived within the request's time limit (the connection may still be open). */
export class TimeoutError extends WardenClientError {
  override name = 'TimeoutError';
  constructor(readonly timeoutMs: number, what: string) {
    super(`no answer to ${what} within ${timeoutMs} ms`);
  }
}

/** The connection could not be opened, or closed before the answer. `code` is the system's, when there is one. */
export class ConnectionError extends WardenClientError {
  override name = 'ConnectionError';
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

/** The peer answered, but not with a oneM2M response (no status code, a body that does not decode). */
export class ProtocolError extends WardenClientError {
  override name = 'ProtocolError';
}

/** Whether `err` is a oneM2M refusal with this status (code or name). */
export function isRsc(err: unknown, rsc: number | RscName): err is OneM2MError {
  return err instanceof OneM2MError && err.is(rsc);
}
