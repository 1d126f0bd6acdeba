/**
 * Every error the SDK produces is an instance of one of these classes: match with `instanceof`, read
 * `name` in logs, `reasonCode` where MQTT gave one, and `cause` for the underlying error.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'closed' && s.error instanceof NotAuthorizedError) showLogin(s.error.reasonCode)
 * })
 * ```
 */
export class IotPubSubError extends Error {
  // Spelled out: minifiers rename classes, and `name` must survive a production bundle.
  override readonly name: string = 'IotPubSubError'

  /** The MQTT reason code (MQTT 5) or return code (MQTT 3.1.1) behind the error, when there is one. */
  readonly reasonCode: number | undefined

  constructor(message: string, options: { cause?: unknown; reasonCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.reasonCode = options.reasonCode
  }
}

/** A topic name or filter is malformed, or a `topic()` segment would widen a subscription. Thrown synchronously. */
export class InvalidTopicError extends IotPubSubError {
  override readonly name: string = 'InvalidTopicError'

  /** The offending topic, filter or segment. */
  readonly topic: string

  constructor(topic: string, reason: string) {
    super(`Invalid topic ${JSON.stringify(topic.length > 200 ? `${topic.slice(0, 200)}…` : topic)}: ${reason}`)
    this.topic = topic
  }
}

/** An option cannot be honoured (for example `mqtt://` in a browser, or a client certificate there). */
export class UnsupportedOptionError extends IotPubSubError {
  override readonly name: string = 'UnsupportedOptionError'
}

/** The broker refused the connection (CONNACK with a non-zero code) for a reason other than credentials. */
export class ConnectionRefusedError extends IotPubSubError {
  override readonly name: string = 'ConnectionRefusedError'
}

/** The broker refused the credentials: 3.1.1 return codes 4 and 5, MQTT 5 reason codes 134 and 135. */
export class NotAuthorizedError extends ConnectionRefusedError {
  override readonly name: string = 'NotAuthorizedError'
}

/** The connection to the broker was lost or could not be made (network error, keepalive timeout, ...). */
export class ConnectionLostError extends IotPubSubError {
  override readonly name: string = 'ConnectionLostError'
}

/** The broker refused a SUBSCRIBE (SUBACK failure code). Observers of the filter error with it. */
export class SubscriptionRejectedError extends IotPubSubError {
  override readonly name: string = 'SubscriptionRejectedError'

  readonly filter: string

  constructor(filter: string, reasonCode: number, cause?: unknown) {
    super(`Subscription to ${JSON.stringify(filter)} rejected by the broker (reason code ${reasonCode})`, { reasonCode, cause })
    this.filter = filter
  }
}

/** The broker refused a PUBLISH (MQTT 5 PUBACK/PUBREC reason code ≥ 128), or it could not be sent. */
export class PublishError extends IotPubSubError {
  override readonly name: string = 'PublishError'

  readonly topic: string

  constructor(topic: string, message: string, options: { cause?: unknown; reasonCode?: number } = {}) {
    super(`Publish to ${JSON.stringify(topic)} failed: ${message}`, options)
    this.topic = topic
  }
}

/**
 * A QoS 2 publish whose session the broker lost (a reconnect answered `sessionPresent: false`, as every
 * reconnect with the default `clean: true` is) before it completed: the broker may have delivered the
 * message or discarded it, and nothing can tell which. It is not resent: that could deliver it twice, or
 * confirm a message the broker discarded. Publish again if a duplicate is acceptable; for exactly once across
 * reconnects use a persistent session (`clean: false`, a `clientId`, `sessionExpiryInterval`).
 *
 * @example
 * ```ts
 * try {
 *   await client.publish('orders/42', order, { qos: 2 })
 * } catch (error) {
 *   if (error instanceof PublishOutcomeUnknownError) await reconcile(order)
 * }
 * ```
 */
export class PublishOutcomeUnknownError extends PublishError {
  override readonly name: string = 'PublishOutcomeUnknownError'

  constructor(topic: string) {
    super(
      topic,
      'outcome unknown: the broker lost the session before completing this QoS 2 publish, so it may or may not have delivered it. Publish again if a duplicate is acceptable, or use a persistent session (clean: false, clientId, sessionExpiryInterval)',
    )
  }
}

/** A received payload could not be decoded by the observer's codec. Reported on `client.errors$`. */
export class DecodeError extends IotPubSubError {
  override readonly name: string = 'DecodeError'

  readonly topic: string
  /** The payload as received. */
  readonly raw: Uint8Array

  constructor(topic: string, raw: Uint8Array, cause: unknown) {
    super(`Could not decode the payload of ${JSON.stringify(topic)}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.topic = topic
    this.raw = raw
  }
}

/** The client was ended (or ended itself after a fatal error) before the operation could finish. */
export class ClientClosedError extends IotPubSubError {
  override readonly name: string = 'ClientClosedError'

  constructor(message = 'The client is closed', cause?: unknown) {
    super(message, { cause })
  }
}

/**
 * A publish did not settle within its `timeout`, or its `signal` aborted it. It is not sent again, but one
 * already written may still have reached the broker: a timeout does not mean "not delivered".
 */
export class PublishTimeoutError extends IotPubSubError {
  override readonly name: string = 'PublishTimeoutError'
}

/** A publish made while disconnected found the offline queue full (`offlineQueue` limits). Nothing was sent. */
export class QueueFullError extends IotPubSubError {
  override readonly name: string = 'QueueFullError'
}

/** A publish is larger than the broker's maximum packet size (MQTT 5 CONNACK) or `maxPacketSize`. Nothing was sent. */
export class PayloadTooLargeError extends IotPubSubError {
  override readonly name: string = 'PayloadTooLargeError'
  /** The limit in bytes that the packet would have exceeded. */
  readonly limit: number

  constructor(message: string, limit: number) {
    super(message)
    this.limit = limit
  }
}

/**
 * Another connection with the same client id keeps taking this client's place: the broker closes each
 * connection soon after accepting it (MQTT 5 says so with reason code 142; 3.1.1 gives no reason).
 */
export class ClientIdConflictError extends ConnectionLostError {
  override readonly name: string = 'ClientIdConflictError'
}

/**
 * A handler given a manually acknowledged message failed (or called `nack()`): the message was not
 * acknowledged and comes again. Reported on `client.errors$`.
 */
export class HandlerError extends IotPubSubError {
  override readonly name: string = 'HandlerError'
  readonly topic: string

  constructor(topic: string, cause: unknown) {
    super(`The handler of a message on ${JSON.stringify(topic)} failed; the message was not acknowledged and will be delivered again`, { cause })
    this.topic = topic
  }
}

/** A request got no reply within its `timeout`. */
export class RequestTimeoutError extends IotPubSubError {
  override readonly name: string = 'RequestTimeoutError'
}

/** The responder's handler failed: its error, carried back in the reply. */
export class ResponderError extends IotPubSubError {
  override readonly name: string = 'ResponderError'
  /** The `name` of the error the responder's handler threw. */
  readonly remoteName: string

  constructor(message: string, remoteName: string) {
    super(message)
    this.remoteName = remoteName
  }
}
