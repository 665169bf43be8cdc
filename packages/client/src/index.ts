// @warden/client: a typed oneM2M client for AEs, over HTTP(S), MQTT and WebSocket.
export { connect, WardenClient, PendingRequest, PollingChannel } from './client.js';
export type { Binding, ClientOptions, RequestOptions, DiscoveryOptions, DiscoveryPage, MemberResponse, PolledRequest } from './client.js';
export * from './errors.js';
export * from './generated/resources.js';
export * from './primitive.js';
export { NotificationReceiver, NotificationSink } from './receiver.js';
export type { Notification, Verification, NonBlockingResult, ReceiverOptions, SinkOptions } from './receiver.js';
export type { TlsOptions, Transport, IncomingRequestHandler } from './transport.js';
export type { Format } from './codec.js';
