// THE response status code table: oneM2M RSC (TS-0004 §6.6.3) → name, HTTP status (TS-0009 table 6.3.2-1)
// and CoAP code (TS-0008 table 6.2.4-1).
// Every binding converts through this one table; nothing else maps status codes.

export const RSC = {
  ACCEPTED: 1000,
  ACCEPTED_NON_BLOCKING_REQUEST_SYNCH: 1001,
  ACCEPTED_NON_BLOCKING_REQUEST_ASYNCH: 1002,
  OK: 2000,
  CREATED: 2001,
  DELETED: 2002,
  UPDATED: 2004,
  BAD_REQUEST: 4000,
  RELEASE_VERSION_NOT_SUPPORTED: 4001,
  NOT_FOUND: 4004,
  OPERATION_NOT_ALLOWED: 4005,
  REQUEST_TIMEOUT: 4008,
  UNSUPPORTED_MEDIA_TYPE: 4015,
  SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE: 4101,
  CONTENTS_UNACCEPTABLE: 4102,
  ORIGINATOR_HAS_NO_PRIVILEGE: 4103,
  GROUP_REQUEST_IDENTIFIER_EXISTS: 4104,
  CONFLICT: 4105,
  /** Named ORIGINATOR_NOT_AUTHENTICATED in TS-0009/TS-0008 and TS-0003 §7.2.1. */
  ORIGINATOR_NOT_AUTHENTICATED: 4106,
  SECURITY_ASSOCIATION_REQUIRED: 4107,
  INVALID_CHILD_RESOURCE_TYPE: 4108,
  NO_MEMBERS: 4109,
  GROUP_MEMBER_TYPE_INCONSISTENT: 4110,
  ESPRIM_UNSUPPORTED_OPTION: 4111,
  ESPRIM_UNKNOWN_KEY_ID: 4112,
  ESPRIM_UNKNOWN_ORIG_RAND_ID: 4113,
  ESPRIM_UNKNOWN_RECV_RAND_ID: 4114,
  ESPRIM_BAD_MAC: 4115,
  ESPRIM_IMPERSONATION_ERROR: 4116,
  ORIGINATOR_HAS_ALREADY_REGISTERED: 4117,
  BLOCKING_SUBSCRIPTION_ALREADY_EXISTS: 4124,
  /** A <flexContainer> whose containerDefinition names no specialization the CSE knows [TS-0004 §7.4.37.2.1]. */
  SPECIALIZATION_SCHEMA_NOT_FOUND: 4125,
  APP_RULE_VALIDATION_FAILED: 4126,
  OPERATION_DENIED_BY_REMOTE_ENTITY: 4127,
  SERVICE_SUBSCRIPTION_NOT_ESTABLISHED: 4128,
  /** Warden answers it when an originator exceeds its request rate, its non-blocking job quota or its SPARQL share. */
  SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED: 4141,
  INVALID_SPARQL_QUERY: 4143,
  INTERNAL_SERVER_ERROR: 5000,
  NOT_IMPLEMENTED: 5001,
  TARGET_NOT_REACHABLE: 5103,
  RECEIVER_HAS_NO_PRIVILEGE: 5105,
  ALREADY_EXISTS: 5106,
  REMOTE_ENTITY_NOT_REACHABLE: 5107,
  TARGET_NOT_SUBSCRIBABLE: 5203,
  SUBSCRIPTION_VERIFICATION_INITIATION_FAILED: 5204,
  SUBSCRIPTION_HOST_HAS_NO_PRIVILEGE: 5205,
  NON_BLOCKING_SYNCH_REQUEST_NOT_SUPPORTED: 5206,
  NOT_ACCEPTABLE: 5207,
  DISCOVERY_DENIED_BY_IPE: 5208,
  GROUP_MEMBERS_NOT_RESPONDED: 5209,
  ESPRIM_DECRYPTION_ERROR: 5210,
  ESPRIM_ENCRYPTION_ERROR: 5211,
  SPARQL_UPDATE_ERROR: 5212,
  CROSS_RESOURCE_OPERATION_FAILURE: 5221,
  EXTERNAL_OBJECT_NOT_REACHABLE: 6003,
  EXTERNAL_OBJECT_NOT_FOUND: 6005,
  MAX_NUMBER_OF_MEMBER_EXCEEDED: 6010,
  MGMT_SESSION_CANNOT_BE_ESTABLISHED: 6020,
  MGMT_SESSION_ESTABLISHMENT_TIMEOUT: 6021,
  INVALID_CMDTYPE: 6022,
  INVALID_ARGUMENTS: 6023,
  INSUFFICIENT_ARGUMENTS: 6024,
  MGMT_CONVERSION_ERROR: 6025,
  MGMT_CANCELLATION_FAILED: 6026,
  ALREADY_COMPLETE: 6028,
  MGMT_COMMAND_NOT_CANCELLABLE: 6029,
} as const;

export type RscName = keyof typeof RSC;
export type Rsc = (typeof RSC)[RscName];

interface RscMapping {
  readonly http: number;
  /** CoAP response code as class*100+detail, e.g. 4.03 → 403. */
  readonly coap: number;
}

// HTTP per TS-0009 table 6.3.2-1; CoAP per TS-0008 table 6.2.4-1. Codes absent here fall back by class.
const MAPPING: Readonly<Record<number, RscMapping>> = {
  1000: { http: 202, coap: 201 },
  1001: { http: 202, coap: 201 },
  1002: { http: 202, coap: 201 },
  2000: { http: 200, coap: 205 },
  2001: { http: 201, coap: 201 },
  2002: { http: 200, coap: 202 },
  2004: { http: 200, coap: 204 },
  4000: { http: 400, coap: 400 },
  4001: { http: 501, coap: 501 },
  4004: { http: 404, coap: 404 },
  4005: { http: 405, coap: 405 },
  4008: { http: 504, coap: 504 },
  4015: { http: 415, coap: 415 },
  4101: { http: 403, coap: 403 },
  4102: { http: 400, coap: 400 },
  4103: { http: 403, coap: 403 },
  4104: { http: 409, coap: 400 },
  4105: { http: 409, coap: 403 },
  4106: { http: 403, coap: 403 },
  4107: { http: 403, coap: 403 },
  4108: { http: 403, coap: 403 },
  4109: { http: 403, coap: 403 },
  4110: { http: 400, coap: 400 },
  4111: { http: 403, coap: 403 },
  4112: { http: 403, coap: 403 },
  4113: { http: 403, coap: 403 },
  4114: { http: 403, coap: 403 },
  4115: { http: 403, coap: 403 },
  4116: { http: 403, coap: 403 },
  4117: { http: 403, coap: 403 },
  // TS-0009 table 6.3.3-1 and TS-0008 table 6.3.4-2.
  4124: { http: 409, coap: 400 },
  // TS-0009 maps it with 4001 and 5001 to 501; CoAP follows the same class as 4001 does here.
  4125: { http: 501, coap: 501 },
  4126: { http: 403, coap: 403 },
  4127: { http: 403, coap: 403 },
  4128: { http: 403, coap: 403 },
  // No oneM2M table maps 4141: "retry later" is HTTP 429 (RFC 6585 §4) and CoAP 4.29 (RFC 8516).
  4141: { http: 429, coap: 429 },
  4143: { http: 400, coap: 400 },
  5000: { http: 500, coap: 500 },
  5001: { http: 501, coap: 501 },
  5103: { http: 404, coap: 404 },
  5105: { http: 403, coap: 403 },
  5106: { http: 409, coap: 400 },
  5107: { http: 404, coap: 404 },
  5203: { http: 403, coap: 403 },
  5204: { http: 500, coap: 500 },
  5205: { http: 403, coap: 403 },
  5206: { http: 501, coap: 501 },
  5207: { http: 406, coap: 406 },
  5208: { http: 403, coap: 403 },
  5209: { http: 500, coap: 500 },
  5210: { http: 500, coap: 500 },
  5211: { http: 500, coap: 500 },
  5212: { http: 500, coap: 500 },
  // TS-0009 table 6.3.3-1.
  5221: { http: 500, coap: 500 },
  6003: { http: 404, coap: 404 },
  6005: { http: 404, coap: 404 },
  6010: { http: 400, coap: 400 },
  6020: { http: 500, coap: 500 },
  6021: { http: 500, coap: 500 },
  6022: { http: 400, coap: 400 },
  6023: { http: 400, coap: 400 },
  6024: { http: 400, coap: 400 },
  6025: { http: 500, coap: 500 },
  6026: { http: 500, coap: 500 },
  6028: { http: 409, coap: 400 },
  6029: { http: 409, coap: 400 },
};

const NAMES: ReadonlyMap<number, string> = new Map(Object.entries(RSC).map(([name, code]) => [code, name]));

export function rscName(rsc: number): string {
  return NAMES.get(rsc) ?? `RSC_${rsc}`;
}

export function isKnownRsc(rsc: number): boolean {
  return NAMES.has(rsc);
}

export function httpStatusOf(rsc: number): number {
  const mapped = MAPPING[rsc];
  if (mapped) return mapped.http;
  if (rsc >= 2000 && rsc < 3000) return 200;
  if (rsc >= 4000 && rsc < 5000) return 400;
  return 500;
}

export function coapCodeOf(rsc: number): number {
  const mapped = MAPPING[rsc];
  if (mapped) return mapped.coap;
  if (rsc >= 2000 && rsc < 3000) return 205;
  if (rsc >= 4000 && rsc < 5000) return 400;
  return 500;
}

export function isSuccess(rsc: number): boolean {
  return rsc >= 1000 && rsc < 3000;
}
