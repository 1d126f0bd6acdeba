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
  // Spelled out: minifiers rename classes, and `name` must survive a production bundle. Subclasses override
  // it without a comment of their own: TypeDoc copies this one to each override.
  /**
   * The class name (`'NotAuthorizedError'`, `'QueueFullError'`, ...), kept in a minified production bundle:
   * what logs and `String(error)` show. In code, match with `instanceof` instead.
   */
  override readonly name: string = 'IotPubSubError'

  /** The MQTT reason code (MQTT 5) or return code (MQTT 3.1.1) behind the error, when there is one. */
  readonly reasonCode: number | undefined

  constructor(message: string, options: { cause?: unknown; reasonCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.reasonCode = options.reasonCode
  }
}

/**
 * A topic name or filter is malformed, or a `topic()` segment would add a level or widen a subscription. Thrown
 * at once by `observe()` and `topic()`; `publish()` rejects with it.
 *
 * @example
 * ```ts
 * try {
 *   client.observe(topic('rooms', roomFromUrl, 'temp')).subscribe(render)
 * } catch (error) {
 *   if (error instanceof InvalidTopicError) render(`no such room: ${error.topic}`)
 *   else throw error
 * }
 * ```
 */
export class InvalidTopicError extends IotPubSubError {
  override readonly name: string = 'InvalidTopicError'

  /** The offending topic, filter or segment. */
  readonly topic: string

  constructor(topic: string, reason: string) {
    super(`Invalid topic ${JSON.stringify(topic.length > 200 ? `${topic.slice(0, 200)}…` : topic)}: ${reason}`)
    this.topic = topic
  }
}

/**
 * An option cannot be honoured or makes no sense (for example `mqtt://` in a browser, a client certificate
 * there, a negative `keepalive`, `clean: false` without a `clientId`). Thrown at once by `connect()` and
 * `observe()`; `publish()` rejects with it for a bad option, and `request()` under MQTT 3.1.1. The message names
 * the option and what it accepts.
 *
 * @example
 * ```ts
 * function open(url: string): MQTTClient | undefined {
 *   try {
 *     return connect(url, { clientId: 'dash-1' })
 *   } catch (error) {
 *     // mqtt:// in a browser: "... is not supported in a browser: ... use ws:// or wss:// ..."
 *     if (error instanceof UnsupportedOptionError) showSettingsError(error.message)
 *     else throw error
 *   }
 * }
 * ```
 */
export class UnsupportedOptionError extends IotPubSubError {
  override readonly name: string = 'UnsupportedOptionError'
}

/**
 * The broker refused the connection (CONNACK with a non-zero code) for a reason other than credentials, or the
 * port answered in another protocol. Final (status `closed`, observers errored), except server unavailable,
 * busy or rate-limited (codes 3, 136, 137, 159), which come as a `reconnecting` status and are retried.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'closed' && s.error instanceof ConnectionRefusedError) alert(`refused (code ${s.error.reasonCode}): ${s.error.message}`)
 * })
 * ```
 */
export class ConnectionRefusedError extends IotPubSubError {
  override readonly name: string = 'ConnectionRefusedError'
}

/**
 * The broker refused the credentials: 3.1.1 return codes 4 and 5, MQTT 5 reason codes 134 and 135. The client
 * stops (status `closed`, observers errored, publishes rejected) rather than retrying the same refused
 * credentials; a `credentials` provider that returns new ones is retried.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'closed' && s.error instanceof NotAuthorizedError) showLogin(s.error.reasonCode)
 * })
 * ```
 */
export class NotAuthorizedError extends ConnectionRefusedError {
  override readonly name: string = 'NotAuthorizedError'
}

/**
 * The connection to the broker was lost or could not be made (network error, keepalive timeout, ...): the
 * `error` of a `reconnecting` status while the client retries with backoff, and the rejection of a `request()`
 * whose connection dropped before the reply. Nothing to do unless it persists.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'reconnecting' && s.error instanceof ConnectionLostError) badge.textContent = `offline, retry in ${s.delay} ms: ${s.error.message}`
 * })
 * ```
 */
export class ConnectionLostError extends IotPubSubError {
  override readonly name: string = 'ConnectionLostError'
}

/**
 * The broker refused a SUBSCRIBE (SUBACK failure code, usually its ACL): every observer of the filter errors
 * with it.
 *
 * @example
 * ```ts
 * client.observe('admin/#').subscribe({
 *   next: render,
 *   error: (error) => {
 *     if (error instanceof SubscriptionRejectedError) console.warn(`not allowed: ${error.filter} (code ${error.reasonCode})`)
 *   },
 * })
 * ```
 */
export class SubscriptionRejectedError extends IotPubSubError {
  override readonly name: string = 'SubscriptionRejectedError'

  /** The topic filter the broker refused, as observed. */
  readonly filter: string

  constructor(filter: string, reasonCode: number, cause?: unknown) {
    super(`Subscription to ${JSON.stringify(filter)} rejected by the broker (reason code ${reasonCode})`, { reasonCode, cause })
    this.filter = filter
  }
}

/**
 * The broker refused a PUBLISH (MQTT 5 PUBACK/PUBREC reason code ≥ 128, such as 135 for an ACL denial), or it
 * could not be sent: the payload could not be encoded, the QoS is above the broker's maximum, or a QoS 0
 * message met `offlineQueue.qos0: 'reject'` while offline. `publish()` rejects with it.
 *
 * @example
 * ```ts
 * client.publish('admin/reboot', { at: Date.now() }, { qos: 1 }).catch((error) => {
 *   if (error instanceof PublishError) console.warn(`refused: ${error.topic} (code ${error.reasonCode})`, error.message)
 * })
 * ```
 */
export class PublishError extends IotPubSubError {
  override readonly name: string = 'PublishError'

  /** The topic of the publish that failed. */
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

/**
 * A received payload could not be decoded by the observer's codec, or failed a route's `schema`. Reported on
 * `client.errors$`, not to the observer, which skips that message and keeps receiving.
 *
 * @example
 * ```ts
 * client.errors$.subscribe((error) => {
 *   if (error instanceof DecodeError) console.warn(`bad payload on ${error.topic} (${error.raw.length} bytes)`, error.cause)
 * })
 * ```
 */
export class DecodeError extends IotPubSubError {
  override readonly name: string = 'DecodeError'

  /** The topic the message came on. */
  readonly topic: string
  /** The payload as received. */
  readonly raw: Uint8Array

  constructor(topic: string, raw: Uint8Array, cause: unknown) {
    super(`Could not decode the payload of ${JSON.stringify(topic)}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.topic = topic
    this.raw = raw
  }
}

/**
 * The client was ended (or ended itself after a fatal error) before the operation could finish: a publish or
 * request after `end()`, or one still pending when `end()` gave up waiting. Its `cause`, when there is one, is
 * the error that ended the client.
 *
 * @example
 * ```ts
 * client.publish('rooms/kitchen/temp', reading, { qos: 1 }).catch((error) => {
 *   if (!(error instanceof ClientClosedError)) throw error // shutting down: the reading is dropped
 * })
 * ```
 */
export class ClientClosedError extends IotPubSubError {
  override readonly name: string = 'ClientClosedError'

  constructor(message = 'The client is closed', cause?: unknown) {
    super(message, { cause })
  }
}

/**
 * A publish did not settle within its `timeout`, or its `signal` aborted it. It is not sent again, but one
 * already written may still have reached the broker: a timeout does not mean "not delivered".
 *
 * @example
 * ```ts
 * try {
 *   await client.publish('lamps/desk/set', { on: true }, { qos: 1, timeout: 3000 })
 * } catch (error) {
 *   if (error instanceof PublishTimeoutError) toast('the lamp may not have switched') // it may still have reached the broker
 *   else throw error
 * }
 * ```
 */
export class PublishTimeoutError extends IotPubSubError {
  override readonly name: string = 'PublishTimeoutError'
}

/**
 * A publish found the queue full (`offlineQueue` limits): the client is offline, or the socket or the broker's
 * receive maximum cannot take more yet. Nothing was sent. `publish()` rejects with it.
 *
 * @example
 * ```ts
 * client.publish('rooms/kitchen/temp', reading, { qos: 1 }).catch((error) => {
 *   if (error instanceof QueueFullError) dropped += 1 // the broker is away and the queue is full
 *   else throw error
 * })
 * ```
 */
export class QueueFullError extends IotPubSubError {
  override readonly name: string = 'QueueFullError'
}

/**
 * A publish is larger than the broker's maximum packet size (MQTT 5 CONNACK) or `maxPacketSize`. Nothing was
 * sent. `publish()` rejects with it.
 *
 * @example
 * ```ts
 * try {
 *   await client.publish('cameras/door/snapshot', jpeg, { qos: 1 })
 * } catch (error) {
 *   if (error instanceof PayloadTooLargeError) await client.publish('cameras/door/snapshot', await shrink(jpeg, error.limit), { qos: 1 })
 *   else throw error
 * }
 * ```
 */
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
 * connection soon after accepting it (MQTT 5 says so with reason code 142; 3.1.1 gives no reason). The `error`
 * of a `reconnecting` status, with a growing backoff; give each client instance its own id.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'reconnecting' && s.error instanceof ClientIdConflictError) console.error(`client id taken: ${s.error.message}`)
 * })
 * ```
 */
export class ClientIdConflictError extends ConnectionLostError {
  override readonly name: string = 'ClientIdConflictError'
}

/**
 * A handler given a manually acknowledged message failed (or called `nack()`): the message was not
 * acknowledged and comes again (to a persistent session). Reported on `client.errors$`; `cause` is the
 * handler's error or the `nack()` reason.
 *
 * @example
 * ```ts
 * client.errors$.subscribe((error) => {
 *   if (error instanceof HandlerError) console.warn(`job on ${error.topic} failed, it will come again`, error.cause)
 * })
 * ```
 */
export class HandlerError extends IotPubSubError {
  override readonly name: string = 'HandlerError'
  /** The topic of the message that was not acknowledged. */
  readonly topic: string

  constructor(topic: string, cause: unknown) {
    super(`The handler of a message on ${JSON.stringify(topic)} failed; the message was not acknowledged and will be delivered again`, { cause })
    this.topic = topic
  }
}

/**
 * A request got no reply within its `timeout` (default 10 s): nobody serves that topic, or the responder is
 * slow. `request()` rejects with it.
 *
 * @example
 * ```ts
 * try {
 *   const reply = await client.request('devices/d1/rpc/status', {}, { timeout: 2000, codec: 'json' })
 *   render(reply.payload)
 * } catch (error) {
 *   if (error instanceof RequestTimeoutError) render('device d1 does not answer')
 *   else throw error
 * }
 * ```
 */
export class RequestTimeoutError extends IotPubSubError {
  override readonly name: string = 'RequestTimeoutError'
}

/**
 * The responder's handler failed: its error, carried back in the reply. `request()` rejects with it; `message`
 * is the responder's error message.
 *
 * @example
 * ```ts
 * client.request('devices/d1/rpc/reboot', { delay: 5 }, { codec: 'json' }).catch((error) => {
 *   if (error instanceof ResponderError) console.warn(`d1 refused: ${error.remoteName}: ${error.message}`)
 * })
 * ```
 */
export class ResponderError extends IotPubSubError {
  override readonly name: string = 'ResponderError'
  /** The `name` of the error the responder's handler threw. */
  readonly remoteName: string

  constructor(message: string, remoteName: string) {
    super(message)
    this.remoteName = remoteName
  }
}

/**
 * A queued publish passed its `expiry` before it could be sent: it was taken out of the outbox and never
 * sent. `publish()` rejects with it at that moment; `outbox$` reports the message `expired`.
 *
 * @example
 * ```ts
 * client.publish('valves/3/set', 'open', { qos: 1, expiry: 60 }).catch((error) => {
 *   if (error instanceof MessageExpiredError) toast('the valve command was not sent within a minute')
 * })
 * ```
 */
export class MessageExpiredError extends PublishError {
  override readonly name: string = 'MessageExpiredError'
}

/**
 * A queued publish with `collapse: true` was replaced by a newer one to the same topic, also with `collapse`,
 * before it was sent: only the latest value goes. `publish()` rejects with it; `outbox$` reports it `replaced`.
 *
 * @example
 * ```ts
 * client.publish('plant/tank/level', level, { qos: 1, collapse: true }).catch((error) => {
 *   if (!(error instanceof MessageReplacedError)) throw error // a newer level took its place
 * })
 * ```
 */
export class MessageReplacedError extends PublishError {
  override readonly name: string = 'MessageReplacedError'
}

/**
 * Another live client holds the store's state for this client id (two processes on one directory, or two
 * clients in one process): `connect()` with that `store` ends the client with it (`status$` closes with it,
 * `connected()` rejects with it). A lock left by a process that died is taken over instead.
 *
 * @example
 * ```ts
 * const client = connect(url, { clientId: 'gateway-7', store: fileStore('/var/lib/gateway') })
 * await client.connected().catch((e) => { if (e instanceof StoreLockedError) process.exit(3) }) // a twin runs
 * ```
 */
export class StoreLockedError extends IotPubSubError {
  override readonly name: string = 'StoreLockedError'
}

/**
 * Part of a store could not be read (a checksum failed past the torn tail a crash leaves): it was moved aside
 * to `file`, and what came before it was kept. The client goes on with what was kept and reports this on
 * `errors$`.
 *
 * @example
 * ```ts
 * client.errors$.subscribe((e) => { if (e instanceof StoreCorruptError) alertOperator(e.file) })
 * ```
 */
export class StoreCorruptError extends IotPubSubError {
  override readonly name: string = 'StoreCorruptError'
  /** Where the unreadable bytes were moved. */
  readonly file: string

  constructor(message: string, file: string) {
    super(message)
    this.file = file
  }
}

/**
 * A change could not be made durable (a full disk, a quota exceeded, the store closed): the publish it belongs
 * to is refused, never silently dropped. `publish()` rejects with it; `outbox$` reports the message `failed`.
 *
 * @example
 * ```ts
 * client.publish('cmd/valve', 'open', { qos: 1 }).catch((e) => { if (e instanceof StoreWriteError) showDiskFull() })
 * ```
 */
export class StoreWriteError extends IotPubSubError {
  override readonly name: string = 'StoreWriteError'
}

/**
 * The proxy between the client and the broker refused its credentials (HTTP 407 or 401 to the CONNECT, or a
 * failed SOCKS5 authentication), or asked for some and the proxy URL has none. Final, as for the broker's own
 * refusal: the proxy's credentials come from the `proxy` option or the environment, which a retry does not
 * change. The message names the proxy (without its password).
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'closed' && s.error instanceof ProxyAuthenticationError) console.error(`fix HTTPS_PROXY: ${s.error.message}`)
 * })
 * ```
 */
export class ProxyAuthenticationError extends NotAuthorizedError {
  override readonly name: string = 'ProxyAuthenticationError'
}

/**
 * The proxy between the client and the broker could not be reached, refused the tunnel to the broker (HTTP
 * 403 or 502 to the CONNECT, a SOCKS5 reply other than success), or answered in another protocol. Retried with
 * the backoff, as an unreachable broker is: the `error` of a `reconnecting` status. The message names the proxy.
 *
 * @example
 * ```ts
 * client.status$.subscribe((s) => {
 *   if (s.type === 'reconnecting' && s.error instanceof ProxyError) badge.textContent = `proxy trouble: ${s.error.message}`
 * })
 * ```
 */
export class ProxyError extends ConnectionRefusedError {
  override readonly name: string = 'ProxyError'
}

/**
 * MQTT 5 enhanced authentication (the `auth` option) failed: the broker refused the method (CONNACK 0x8C
 * Bad authentication method: final), the method itself failed (its `start` or `next` rejected, or the broker
 * did not prove itself, as SCRAM's server signature does), or a re-authentication on the live connection was
 * refused (the broker's DISCONNECT). The last two come on `errors$` and as the `error` of a `reconnecting`
 * status: the client reconnects with its backoff, authenticating afresh. A refused login (CONNACK 0x86, 0x87)
 * is a `NotAuthorizedError`, of which this is a kind.
 *
 * @example
 * ```ts
 * client.errors$.subscribe((error) => {
 *   if (error instanceof AuthenticationError) console.warn(`authentication: ${error.message}`)
 * })
 * ```
 */
export class AuthenticationError extends NotAuthorizedError {
  override readonly name: string = 'AuthenticationError'
}
