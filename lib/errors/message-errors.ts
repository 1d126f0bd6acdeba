// Errors of incoming messages and their handlers: a rejected subscription, a payload a codec cannot read, a failing handler, a request unanswered or answered with an error.
import { describeThrown } from './describe-thrown.js'
import { IotPubSubError } from './iot-pubsub-error.js'

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
    super(`Could not decode the payload of ${JSON.stringify(topic)}: ${describeThrown(cause)}`, { cause })
    this.topic = topic
    this.raw = raw
  }
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
