// The console's calls to its server: JSON over fetch, with the session's CSRF token on every call.
export interface Me {
  signedIn: true;
  originator: string;
  kind: 'token' | 'certificate';
  authenticated: boolean;
  admin: boolean;
  csrf: string;
  expires: number;
  cseRn: string;
  cseId: string;
}

export interface SignedOut {
  signedIn: false;
  certificate: boolean;
}

export interface Answer {
  rsc: number;
  pc?: unknown;
  location?: string;
  cnst?: number;
  cnot?: number;
}

let csrf = '';

export function useCsrf(token: string): void {
  csrf = token;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (csrf) headers['X-Console-CSRF'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`/console/api/${path}`, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const value = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (!res.ok) throw new ApiError(res.status, value.error ?? `HTTP ${res.status}`);
  return value;
}

/** One oneM2M request as the signed-in originator, through the CSE's pipeline. */
export function onem2m(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, ty?: number): Promise<Answer> {
  return call<Answer>('POST', 'request', { method, path, ...(body === undefined ? {} : { body }), ...(ty === undefined ? {} : { ty }) });
}

/** The debugging message of a oneM2M answer, when it carries one. */
export function messageOf(answer: Answer): string {
  const pc = answer.pc as Record<string, unknown> | undefined;
  return typeof pc?.['m2m:dbg'] === 'string' ? pc['m2m:dbg'] : '';
}

/** The resource of a oneM2M answer: the one value under its type name (m2m:cnt …). */
export function resourceOf(answer: Answer): { typeName: string; attributes: Record<string, unknown> } | undefined {
  const pc = answer.pc as Record<string, unknown> | undefined;
  if (!pc) return undefined;
  const [typeName, attributes] = Object.entries(pc)[0] ?? [];
  if (!typeName || typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) return undefined;
  return { typeName, attributes: attributes as Record<string, unknown> };
}

export const RSC_NAMES: Readonly<Record<number, string>> = {
  2000: 'OK',
  2001: 'CREATED',
  2002: 'DELETED',
  2004: 'UPDATED',
  4000: 'BAD_REQUEST',
  4004: 'NOT_FOUND',
  4005: 'OPERATION_NOT_ALLOWED',
  4103: 'ORIGINATOR_HAS_NO_PRIVILEGE',
  4105: 'CONFLICT',
  4106: 'ORIGINATOR_NOT_AUTHENTICATED',
  4107: 'SECURITY_ASSOCIATION_REQUIRED',
  4108: 'INVALID_CHILD_RESOURCE_TYPE',
  5000: 'INTERNAL_SERVER_ERROR',
  5207: 'NOT_ACCEPTABLE',
  6010: 'MAX_NUMBER_OF_MEMBER_EXCEEDED',
};

export function rscText(rsc: number): string {
  return `${rsc} ${RSC_NAMES[rsc] ?? ''}`.trim();
}
