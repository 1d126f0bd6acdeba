// Errors a `publish()` rejects with: refused, unknown outcome, timed out, no room, too large, expired, replaced.
import { IotPubSubError } from './iot-pubsub-error.js'

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
