// The public API shared by both entries (node.ts, browser.ts): values first, then types, each listed by
// name so that nothing internal leaks by accident.
export { topic, parseFilter, assertTopicName, matches } from './topic.js'
export { json } from './codec.js'
export { route } from './services/route.js'
export { acknowledge } from './services/acknowledge.js'
export {
  IotPubSubError,
  InvalidTopicError,
  UnsupportedOptionError,
  ConnectionRefusedError,
  NotAuthorizedError,
  ConnectionLostError,
  SubscriptionRejectedError,
  PublishError,
  PublishOutcomeUnknownError,
  PublishTimeoutError,
  DecodeError,
  ClientClosedError,
  ClientIdConflictError,
  QueueFullError,
  PayloadTooLargeError,
  HandlerError,
  RequestTimeoutError,
  ResponderError,
  MessageExpiredError,
  MessageReplacedError,
  StoreLockedError,
  StoreCorruptError,
  StoreWriteError,
  ProxyAuthenticationError,
  ProxyError,
  AuthenticationError,
} from './errors.js'
export { memoryStore } from './store/memory-store.js'
export { indexedDbStore } from './store/indexeddb-store.js'
export { storeConformance } from './store/store-conformance.js'

export type { Codec, CodecName } from './codec.js'
export type { ClearedMessage, Message, MessageProperties, QoS, UserProperties, UserPropertyPairs } from './message.js'
export type {
  ClientOptions,
  MQTTClientOptions,
  ObserveOptions,
  PublishOptions,
  PublishProperties,
  ReconnectOptions,
  WillOptions,
  EndOptions,
  OfflineQueueOptions,
  Credentials,
  WebSocketOptions,
} from './options/client-options.js'
export type { ConnectedOptions } from './options/connected-options.js'
export type { IterateOptions } from './options/iterate-options.js'
export type { Status, ConnectingStatus, ConnectedStatus, ReconnectingStatus, ClosedStatus, ProtocolVersion } from './status.js'
export type { ParsedFilter } from './topic.js'
export type { SubscriptionInfo } from './subscriptions/broker-subscription.js'
export type { Route, RouteParams, RouteParamNames } from './services/route.js'
export type { Logger, LogFields, LogEvent } from './log/logger.js'
export type { RequestOptions } from './services/requester.js'
export type { RouteOptions, RouteMessage } from './services/observe-route.js'
export type { Store, StoreChange, StoredMessage, StoredSession } from './store/store.js'
export type { StoreCheck } from './store/store-conformance.js'
export type { FileStoreOptions } from './store/file-store.js'
export type { OutboxEvent, OutboxState } from './publish/outbox.js'
export { scramSha256 } from './auth/scram.js'
export type { ScramOptions } from './auth/scram.js'
export type { AuthMethod, AuthExchange } from './auth/auth-method.js'
