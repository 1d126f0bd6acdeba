import { encodePayload, resolveCodec } from '../codec.js'
import { IotPubSubError, PublishError, UnsupportedOptionError } from '../errors.js'
import { describeThrown } from '../errors/describe-thrown.js'
import type { QoS } from '../message.js'
import type { PublishOptions, PublishProperties } from '../options/client-options.js'
import { checkPublishProperties } from '../options/validate-properties.js'
import { checkOneOf, checkPositive, checkQos, MAX_TIMER_MS, refuse } from '../options/validate.js'
import { assertTopicName } from '../topic.js'

/** What every publish reads of its options, checked: a wrong kind would throw later, in a timer or a socket callback. */
function checkOptions({ qos, retain, timeout, signal, codec, properties, id, expiry, collapse }: PublishOptions<unknown>): QoS {
  if (retain !== undefined) checkOneOf('retain', retain, [true, false] as const)
  if (timeout !== undefined) checkPositive('timeout', timeout, MAX_TIMER_MS, 'milliseconds')
  if (signal !== undefined && typeof signal?.addEventListener !== 'function') refuse('signal', 'an AbortSignal', signal)
  if (typeof codec === 'string' || (codec !== undefined && typeof codec?.encode !== 'function')) checkOneOf('codec', codec, ['bytes', 'text', 'json'] as const)
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 256)) refuse('id', 'a string of 1 to 256 characters', id)
  if (expiry !== undefined) {
    // MQTT's Message Expiry Interval is a four-byte count of seconds; two ways to say it would disagree.
    checkPositive('expiry', expiry, 0xffff_ffff, 'seconds')
    if (properties?.messageExpiryInterval !== undefined) refuse('expiry', 'left out when properties.messageExpiryInterval is given (it is the same thing)', expiry)
  }
  if (collapse !== undefined) checkOneOf('collapse', collapse, [true, false] as const)
  return checkQos(qos ?? 0)
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes)
    return true
  } catch {
    return false
  }
}

/**
 * What every `publish()` checks and encodes before anything is queued or sent: the topic name, the options
 * (QoS, retain, timeout, signal, codec, MQTT 5 properties) and the payload through the codec. A bad one gives
 * its typed error (`InvalidTopicError`, `UnsupportedOptionError`, or `PublishError` for a payload the codec
 * cannot encode) as a value, never a throw, so that `publish()` can only reject.
 *
 * @example
 * ```ts
 * const prepared = preparePublish('rooms/kitchen/temp', { celsius: 21.5 }, { qos: 1 })
 * if ('error' in prepared) return Promise.reject(prepared.error)
 * ```
 */
export function preparePublish<T>(
  topic: string,
  payload: T,
  options: PublishOptions<T>,
): { bytes: Uint8Array | string; qos: QoS; properties: PublishProperties | undefined } | { error: IotPubSubError } {
  let qos: QoS
  let properties: PublishProperties | undefined
  try {
    assertTopicName(topic)
    // Destructuring null or a string would throw a TypeError: refused in the SDK's words instead.
    qos = checkOptions(options !== null && typeof options === 'object' ? options : refuse('options', 'an object', options))
    // The copy checked is what the publish keeps; none is made for the common publish without properties.
    properties = options.properties === undefined ? undefined : checkPublishProperties(options.properties)
  } catch (error) {
    return { error: error instanceof IotPubSubError ? error : new UnsupportedOptionError(describeThrown(error), { cause: error }) }
  }
  try {
    const bytes: unknown = options.codec ? resolveCodec<T>(options.codec).encode(payload) : encodePayload(payload)
    if (typeof bytes !== 'string' && !(bytes instanceof Uint8Array)) throw new TypeError(`the codec gave ${typeof bytes}, not bytes or a string`)
    // MQTT 5 3.3.2.3.2: with the indicator set, the payload MUST be well-formed UTF-8 (a string always is:
    // TextEncoder writes a lone surrogate as U+FFFD). A broker that checks closes the connection for it.
    if (properties?.payloadFormatIndicator === true && typeof bytes !== 'string' && !isUtf8(bytes)) {
      return { error: new UnsupportedOptionError('`properties.payloadFormatIndicator` is true but the payload is not well-formed UTF-8') }
    }
    return { bytes, qos, properties }
  } catch (error) {
    return { error: new PublishError(topic, 'the payload could not be encoded', { cause: error }) }
  }
}
