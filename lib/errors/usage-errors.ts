// Errors of how the SDK is called: a malformed topic, an option it cannot honour, a closed client.
import { IotPubSubError } from './iot-pubsub-error.js'

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
