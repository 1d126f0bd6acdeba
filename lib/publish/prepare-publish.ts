import { encodePayload, resolveCodec } from '../codec.js'
import { PublishError } from '../errors.js'
import type { QoS } from '../message.js'
import type { PublishOptions } from '../options/client-options.js'
import { checkQos } from '../options/validate.js'
import { assertTopicName } from '../topic.js'

/**
 * What every `publish()` checks and encodes before anything is queued or sent: the topic name, the QoS and
 * the payload through the codec. A bad one gives its typed error (`InvalidTopicError`,
 * `UnsupportedOptionError`, or `PublishError` for a payload the codec cannot encode), never a throw.
 *
 * @example
 * ```ts
 * const prepared = preparePublish('rooms/kitchen/temp', { celsius: 21.5 }, { qos: 1 })
 * if ('error' in prepared) return Promise.reject(prepared.error)
 * ```
 */
export function preparePublish<T>(topic: string, payload: T, options: PublishOptions<T>): { bytes: Uint8Array | string; qos: QoS } | { error: Error } {
  try {
    assertTopicName(topic)
    const qos = checkQos(options.qos ?? 0)
    const bytes = options.codec ? resolveCodec<T>(options.codec).encode(payload) : encodePayload(payload)
    return { bytes, qos }
  } catch (error) {
    return { error: error instanceof Error && 'reasonCode' in error ? error : new PublishError(topic, 'the payload could not be encoded', { cause: error }) }
  }
}
