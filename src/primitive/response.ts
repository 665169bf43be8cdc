import { RESPONSE_TYPE, type RequestPrimitive } from './request.js';
import { isSuccess, type Rsc } from './rsc.js';

/** The neutral response primitive (TS-0004 §7.2.1.2). */
export interface ResponsePrimitive {
  rsc: Rsc;
  rqi: string;
  pc?: Record<string, unknown>;
  /** Originator of the response: the CSE-ID of this CSE. */
  fr?: string;
  to?: string;
  rvi?: string;
  /** Originating timestamp: when this CSE produced the response. */
  ot?: string;
  /** Result expiration timestamp, echoed from the request. */
  rset?: string;
  vsi?: string;
  /** The created resource's URI when the Content carries it (rcn 2, 3): Content-Location on HTTP, Location-Path on CoAP. */
  location?: string;
  /** Content status (1 partial, 2 full) and offset of the next part [TS-0004 §7.2.1.2]. */
  cnst?: number;
  cnot?: number;
  /** Assigned Token Identifiers [TS-0004 §7.2.1.2]: Local-Token-IDs this CSE assigned to the request's tokens. */
  ati?: { ltia: Array<{ lti: string; tkid: string }> };
  /**
   * Never sent. The originator this request proved its connection speaks for: the AE-ID a registration
   * created (2001), or an originator the connection's credential authenticated. A binding that sends
   * requests back down a client's connection (WebSocket, TS-0020) associates the connection with it only.
   */
  connectionOriginator?: string;
  /** Seconds after which the request may be sent again (HTTP Retry-After, CoAP Max-Age); never sent in a primitive. */
  retryAfter?: number;
}

/**
 * Response Type noResponse: "the Receiver CSE or AE does not respond with the result of the requested operation"
 * [TS-0001 §8.1.2]. Warden carries the request out as a blocking one and then sends no result (HTTP: 204 without
 * content, as ACME does; MQTT and WebSocket: no response message). A refused request is still answered with its
 * error: it was not accepted.
 */
export function withholdsResult(request: Pick<RequestPrimitive, 'rt'>, response: Pick<ResponsePrimitive, 'rsc'>): boolean {
  return request.rt?.rtv === RESPONSE_TYPE.NO_RESPONSE && isSuccess(response.rsc);
}
