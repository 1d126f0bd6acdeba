// Every error class the SDK throws or rejects with, one import for the rest of lib/ and for the entries.
export { IotPubSubError } from './errors/iot-pubsub-error.js'
export { InvalidTopicError, UnsupportedOptionError, ClientClosedError } from './errors/usage-errors.js'
export { ConnectionRefusedError, NotAuthorizedError, ConnectionLostError, ClientIdConflictError, ProxyAuthenticationError, ProxyError, AuthenticationError } from './errors/connection-errors.js'
export { PublishError, PublishOutcomeUnknownError, PublishTimeoutError, QueueFullError, PayloadTooLargeError, MessageExpiredError, MessageReplacedError } from './errors/publish-errors.js'
export { SubscriptionRejectedError, DecodeError, HandlerError, RequestTimeoutError, ResponderError } from './errors/message-errors.js'
export { StoreLockedError, StoreCorruptError, StoreWriteError } from './errors/store-errors.js'
