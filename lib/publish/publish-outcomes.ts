import { ClientClosedError, PayloadTooLargeError, PublishError, PublishTimeoutError } from '../errors.js'
import type { LinkAckError } from '../link/link.js'
import { errorFields, type Log } from '../log/log.js'
import type { QoS } from '../message.js'
import type { PublishProperties } from '../options/client-options.js'
import { QOS_NOT_SUPPORTED, RETAIN_NOT_SUPPORTED } from '../reason-codes.js'
import type { ProtocolVersion } from '../status.js'
import { publishPacketSize } from './packet-size.js'
import type { PendingPublish } from './pending-publish.js'

/** What the broker and the options allow a publish, as the publisher knows it now. */
export interface PublishLimits {
  readonly maxQos: number
  /** The smaller of the option's and the broker's maximum packet size; Infinity: none. */
  readonly maxPacketSize: number
  readonly protocol: ProtocolVersion
  /** The broker takes retained messages (MQTT 5 CONNACK: Retain Available, 1 when absent). */
  readonly retain: boolean
}

/**
 * Why a publish the options accepted is refused (as it is made, and again as it leaves the queue, by the limits
 * of the connection it would go on): a QoS above the broker's maximum, a retained message to a broker without
 * them, a packet over the maximum packet size, or a signal already aborted; undefined when it may go.
 *
 * @example
 * ```ts
 * const error = refusal('a/b', bytes, 2, options, { maxQos: 1, maxPacketSize: Infinity, protocol: 5, retain: true })
 * ```
 */
export function refusal(
  topic: string,
  bytes: Uint8Array | string,
  qos: QoS,
  options: { readonly retain?: boolean; readonly properties?: PublishProperties | undefined; readonly signal?: AbortSignal | undefined },
  limits: PublishLimits,
): Error | undefined {
  const { maxQos, maxPacketSize: limit } = limits
  if (qos > maxQos) return new PublishError(topic, `QoS ${qos} is not supported by the broker (maximum ${maxQos})`, { reasonCode: QOS_NOT_SUPPORTED })
  if (options.retain === true && !limits.retain) return new PublishError(topic, 'the broker takes no retained messages (Retain Available 0)', { reasonCode: RETAIN_NOT_SUPPORTED })
  if (limit !== Infinity) {
    const size = publishPacketSize(topic, bytes, qos, options.properties, limits.protocol)
    if (size > limit) return new PayloadTooLargeError(`Publish to ${JSON.stringify(topic)} refused: the packet would be about ${size} bytes, over the limit of ${limit}`, limit)
  }
  const signal = options.signal
  if (signal?.aborted) return new PublishTimeoutError('publish aborted before it was sent', { cause: signal.reason })
  return undefined
}

/** Logs a publish refused before it was queued or sent. */
export function logRefused(log: Log, topic: string, error: Error): void {
  log.warn('publish-refused', { topic, ...errorFields(error) }, `publish to ${JSON.stringify(topic)} refused: ${error.message}`)
}

/** Logs how a publish ended: a trace line when tracing, a warning when it failed (not for a client that ended). */
export function logSettled(log: Log, publish: PendingPublish, error: Error | undefined, ended: boolean): void {
  const { topic, qos, packetId } = publish
  if (log.tracing) {
    const outcome = error ? error.name : qos === 0 ? 'written' : 'acknowledged'
    log.trace('published', { topic, qos, packetId, outcome, ...(error ? errorFields(error) : {}) }, `${topic}${packetId === undefined ? '' : ` (id ${packetId})`}: ${outcome}`)
  }
  if (error && !ended) log.warn('publish-refused', { topic, qos, packetId, ...errorFields(error) }, `publish to ${JSON.stringify(topic)} failed: ${error.message}`)
}

/** The error of a publish the broker refused (or the link could not complete), or of one the client's end cut short. */
export function ackError(topic: string, error: LinkAckError, ended: boolean): Error {
  if (ended) return new ClientClosedError('the client was ended before the publish was acknowledged', error)
  const code = error.code
  return new PublishError(topic, error.message, typeof code === 'number' ? { reasonCode: code } : {})
}

/**
 * The error of a publish given up by its `timeout` or `signal`. A timeout does not mean "not delivered": one
 * already written may have reached the broker, and the link keeps its packet identifier until its flow ends.
 */
export function givenUpError(publish: PendingPublish, reason: 'timeout' | 'abort'): PublishTimeoutError {
  const written = publish.state === 'sent' ? ' (it was sent, so the broker may still have it)' : ''
  const topic = JSON.stringify(publish.topic)
  return reason === 'abort'
    ? new PublishTimeoutError(`publish to ${topic} aborted${written}`, { cause: publish.signal?.reason })
    : new PublishTimeoutError(`publish to ${topic} not acknowledged within the timeout${written}`)
}
