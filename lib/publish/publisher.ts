import { preparePublish } from './prepare-publish.js'
import { ClientClosedError, type IotPubSubError, PayloadTooLargeError, PublishError, PublishTimeoutError } from '../errors.js'
import type { Connack, Link, LinkAckError, LinkFailure } from '../link/link.js'
import type { MessageProperties, QoS } from '../message.js'
import type { PublishOptions } from '../options/client-options.js'
import type { ResolvedOptions } from '../options/resolved-options.js'
import type { ProtocolVersion } from '../status.js'
import { OfflineQueue } from './offline-queue.js'
import { payloadSize, publishPacketSize } from './packet-size.js'
import { PendingPublish, type PublishHost } from './pending-publish.js'
import { blame } from './poison.js'
import { QOS_NOT_SUPPORTED } from '../reason-codes.js'
import { errorFields, Log } from '../log/log.js'


/** What the publisher reads of the connection: the SDK's own state, never MQTT.js's. */
export interface PublisherConnection {
  readonly writable: boolean
  readonly stopped: boolean
  readonly epoch: number
}

/**
 * `publish()`: the checks (topic, QoS, size), the offline queue, one pending object per publish until its
 * acknowledgement, timeouts and aborts that take the message back, and the poison policy: a publish the
 * broker answers by closing the connection is rejected instead of being resent forever.
 */
export class Publisher implements PublishHost {
  /** Every publish not yet settled. */
  readonly #pending = new Set<PendingPublish>()
  /** Sent QoS 1/2 publishes by packet id, oldest first (a Map keeps insertion order). */
  readonly #inFlight = new Map<number, PendingPublish>()
  readonly #queue: OfflineQueue<PendingPublish>
  #brokerMaxQos: QoS = 2
  #brokerMaxPacketSize: number | undefined
  #protocol: ProtocolVersion = 5
  #closedError: IotPubSubError | undefined
  #stopping = false
  #onDrained: (() => void) | undefined

  readonly #options: ResolvedOptions
  readonly #link: Link
  readonly #beforeSend: () => void
  readonly #connection: PublisherConnection
  readonly #now: () => number
  readonly #log: Log

  constructor(
    options: ResolvedOptions,
    link: Link,
    connection: PublisherConnection,
    now: () => number = Date.now,
    log: Log = Log.off,
    /** Sends what must be on the wire before a publish: the SUBSCRIBEs asked before it (see RequestWindow). */
    beforeSend: () => void = () => undefined,
  ) {
    this.#options = options
    this.#link = link
    this.#connection = connection
    this.#now = now
    this.#log = log
    this.#beforeSend = beforeSend
    this.#queue = new OfflineQueue(options.offlineQueue)
  }

  get size(): number {
    return this.#pending.size
  }

  publish<T>(topic: string, payload: T, options: PublishOptions<T>): Promise<void> {
    const prepared = preparePublish(topic, payload, options)
    if ('error' in prepared) return this.#refuse(topic, prepared.error)
    const { bytes, qos } = prepared
    if (this.#stopping || this.#connection.stopped) return this.#refuse(topic, new ClientClosedError('publish() on a client that has ended', this.#closedError))
    const maxQos = Math.min(this.#options.maxQos, this.#brokerMaxQos)
    if (qos > maxQos) {
      return this.#refuse(topic, new PublishError(topic, `QoS ${qos} is not supported by the broker (maximum ${maxQos})`, { reasonCode: QOS_NOT_SUPPORTED }))
    }
    const limit = Math.min(this.#options.maxPacketSize ?? Infinity, this.#brokerMaxPacketSize ?? Infinity)
    if (limit !== Infinity) {
      const size = publishPacketSize(topic, bytes, qos, options.properties)
      if (size > limit) {
        return this.#refuse(topic, new PayloadTooLargeError(`Publish to ${JSON.stringify(topic)} refused: the packet would be about ${size} bytes, over the limit of ${limit}`, limit))
      }
    }
    const { signal, timeout } = options
    if (signal?.aborted) return this.#refuse(topic, new PublishTimeoutError('publish aborted before it was sent', { cause: signal.reason }))
    const publish = new PendingPublish(this, topic, bytes, qos, options.retain ?? false, options.properties as MessageProperties | undefined, payloadSize(bytes), signal)
    this.#pending.add(publish)
    if (this.#connection.writable) {
      this.#send(publish)
    } else {
      const refused = this.#queue.enqueue(publish)
      if (refused) this.#settle(publish, refused)
    }
    if (publish.state !== 'settled') {
      if (timeout !== undefined) publish.timer = setTimeout(() => this.expired(publish, 'timeout'), timeout)
      signal?.addEventListener('abort', publish, { once: true })
    }
    return publish.promise
  }

  // --- the connection's events -------------------------------------------------------------------------------

  connected(connack: Connack, protocol: ProtocolVersion): void {
    this.#protocol = protocol
    this.#brokerMaxPacketSize = connack.maximumPacketSize
    const maximumQoS = connack.maximumQoS
    // Lowered for good by a QoS 2 publish the broker closed on (3.1.1 brokers cannot say their maximum).
    if (maximumQoS === 0 || maximumQoS === 1) this.#brokerMaxQos = Math.min(this.#brokerMaxQos, maximumQoS) as QoS
    // MQTT.js resends the unacknowledged ones first, on this connection.
    const epoch = this.#connection.epoch
    const now = this.#now()
    for (const publish of this.#inFlight.values()) {
      publish.epoch = epoch
      publish.sentAt = now
    }
  }

  /** Sends, in order, what waited for the connection. */
  ready(): void {
    for (const publish of this.#queue.takeAll()) if (publish.state === 'queued') this.#send(publish)
  }

  /** Whether a publish explains this close; rejects it when the broker has refused it for good. */
  blamePublish(failures: readonly LinkFailure[], accepted: boolean): boolean {
    const verdict = blame(failures, accepted, this.#protocol, this.#inFlight, this.#connection.epoch, this.#now())
    if (!verdict) return false
    const { publish } = verdict
    if (verdict.reject) {
      if (verdict.maxQos !== undefined) this.#brokerMaxQos = Math.min(this.#brokerMaxQos, verdict.maxQos) as QoS
      this.#withdraw(publish, new PublishError(publish.topic, verdict.reason, verdict.reasonCode === undefined ? {} : { reasonCode: verdict.reasonCode }))
    } else {
      publish.strikes += 1
    }
    return true
  }

  // --- PublishHost --------------------------------------------------------------------------------------------

  acked(publish: PendingPublish, error: LinkAckError | undefined): void {
    if (publish.packetId !== undefined && this.#inFlight.get(publish.packetId) === publish) this.#inFlight.delete(publish.packetId)
    if (publish.state === 'settled') return
    if (!error) return this.#settle(publish)
    if (this.#stopping) return this.#settle(publish, new ClientClosedError('the client was ended before the publish was acknowledged', error))
    const code = error.code
    this.#settle(publish, new PublishError(publish.topic, error.message, typeof code === 'number' ? { reasonCode: code } : {}))
  }

  expired(publish: PendingPublish, reason: 'timeout' | 'abort'): void {
    if (publish.state === 'settled') return
    const error =
      reason === 'abort'
        ? new PublishTimeoutError(`publish to ${JSON.stringify(publish.topic)} aborted`, { cause: publish.signal?.reason })
        : new PublishTimeoutError(`publish to ${JSON.stringify(publish.topic)} not acknowledged within the timeout`)
    // Given up: taken back, so that it is not sent (or sent again) on a later connection.
    this.#withdraw(publish, error)
  }

  // --- ending --------------------------------------------------------------------------------------------------

  /** Resolves when nothing is pending, or at `deadline` (a time from `now`). */
  drain(deadline: number): Promise<void> {
    this.#stopping = true
    if (this.#pending.size === 0 || !this.#connection.writable) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#onDrained = undefined
        resolve()
      }
      const timer = setTimeout(done, Math.max(0, deadline - this.#now()))
      this.#onDrained = done
    })
  }

  /** Rejects everything still pending: the client has stopped. */
  stop(error: IotPubSubError | undefined): void {
    this.#stopping = true
    this.#closedError = error
    this.#queue.takeAll()
    const rejection = new ClientClosedError('the client was ended before the operation completed', error)
    for (const publish of [...this.#pending]) this.#settle(publish, error ?? rejection)
    this.#inFlight.clear()
  }

  #send(publish: PendingPublish): void {
    publish.state = 'sent'
    publish.epoch = this.#connection.epoch
    publish.sentAt = this.#now()
    this.#beforeSend()
    const packetId = this.#link.publish(publish.topic, publish.payload, publish, publish.onAck)
    // A QoS 0 publish may have settled already (written at once).
    if (packetId !== undefined && (publish.state as PendingPublish['state']) !== 'settled') {
      publish.packetId = packetId
      this.#inFlight.set(packetId, publish)
    }
  }

  /** Takes a publish back from the queue or the link's store, rejecting it with `error`. */
  #withdraw(publish: PendingPublish, error: Error): void {
    const queued = publish.state === 'queued'
    // Settled first: taking it out of MQTT.js's store calls it back with an error of MQTT.js's own.
    this.#settle(publish, error)
    if (queued) this.#queue.remove(publish)
    if (publish.packetId !== undefined) {
      this.#inFlight.delete(publish.packetId)
      this.#link.withdraw(publish.packetId)
    }
  }

  /** A publish refused before it was queued or sent. */
  #refuse(topic: string, error: Error): Promise<void> {
    this.#log.warn('publish-refused', { topic, ...errorFields(error) }, `publish to ${JSON.stringify(topic)} refused: ${error.message}`)
    return Promise.reject(error)
  }

  #settle(publish: PendingPublish, error?: Error): void {
    if (!this.#pending.delete(publish)) return
    if (error && !(error instanceof ClientClosedError)) {
      this.#log.warn('publish-refused', { topic: publish.topic, qos: publish.qos, packetId: publish.packetId, ...errorFields(error) }, `publish to ${JSON.stringify(publish.topic)} failed: ${error.message}`)
    }
    publish.settle(error)
    if (this.#pending.size === 0) this.#onDrained?.()
  }
}
