import { preparePublish } from './prepare-publish.js'
import { ClientClosedError, type IotPubSubError, PayloadTooLargeError, PublishError, PublishOutcomeUnknownError, PublishTimeoutError } from '../errors.js'
import type { Connack, Link, LinkAckError, LinkFailure } from '../link/link.js'
import type { MessageProperties, QoS } from '../message.js'
import type { PublishOptions } from '../options/client-options.js'
import type { ResolvedOptions } from '../options/resolved-options.js'
import type { ProtocolVersion } from '../status.js'
import { OfflineQueue } from './offline-queue.js'
import { payloadSize, publishPacketSize } from './packet-size.js'
import { PendingPublish, type PublishHost } from './pending-publish.js'
import { blame, refusedWithSession } from './poison.js'
import { QOS_NOT_SUPPORTED } from '../reason-codes.js'
import { errorFields, Log } from '../log/log.js'


/**
 * QoS 2 publishes in flight at most under MQTT 3.1.1, which has no Receive Maximum: Mosquitto answers PUBREC
 * and PUBCOMP for every QoS 2 publish past its `max_inflight_messages` (20 by default) but discards the
 * message, so a client with more in flight would have publishes resolve that are never delivered.
 */
export const QOS2_IN_FLIGHT_311 = 20

/** What the publisher reads of the connection: the SDK's own state, never MQTT.js's. */
export interface PublisherConnection {
  readonly writable: boolean
  readonly stopped: boolean
  readonly epoch: number
}

/**
 * `publish()`: the checks (topic, QoS, size), the offline queue, one pending object per publish until its
 * acknowledgement, timeouts and aborts that take the message back, and the poison policy: a publish the
 * broker answers by closing the connection is rejected instead of being resent forever. Flow control on the
 * way out, the same over every link: a publish goes to the link only while the link is `writable` (its socket
 * below the high-water mark) and, at QoS 1/2, while fewer than the broker's Receive Maximum are handed to the
 * link unacknowledged; otherwise it waits in the queue, in order, within the offline queue's limits.
 */
export class Publisher implements PublishHost {
  /** Every publish not yet settled. */
  readonly #pending = new Set<PendingPublish>()
  /** Sent QoS 1/2 publishes by packet id, oldest first (a Map keeps insertion order). */
  readonly #inFlight = new Map<number, PendingPublish>()
  readonly #queue: OfflineQueue<PendingPublish>
  #brokerMaxQos: QoS = 2
  /** Silent closes right after a QoS 2 PUBLISH under MQTT 3.1.1 since the broker last took a QoS 2 (poison.ts). */
  #qos2Strikes = 0
  #brokerMaxPacketSize: number | undefined
  #protocol: ProtocolVersion = 5
  #closedError: IotPubSubError | undefined
  #stopping = false
  #onDrained: (() => void) | undefined
  /** The broker's Receive Maximum, and the QoS 1/2 publishes that count against it (`inWindow`). */
  #receiveMaximum = 65_535
  #windowUsed = 0
  /** QoS 2 publishes in flight, and how many may be (`QOS2_IN_FLIGHT_311` under MQTT 3.1.1). */
  #qos2Limit = 65_535
  #qos2Used = 0
  /** `#pump()` is under way: a settle within one of its sends leaves the sending to it. */
  #pumping = false

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
      const size = publishPacketSize(topic, bytes, qos, options.properties, this.#protocol)
      if (size > limit) {
        return this.#refuse(topic, new PayloadTooLargeError(`Publish to ${JSON.stringify(topic)} refused: the packet would be about ${size} bytes, over the limit of ${limit}`, limit))
      }
    }
    const { signal, timeout } = options
    if (signal?.aborted) return this.#refuse(topic, new PublishTimeoutError('publish aborted before it was sent', { cause: signal.reason }))
    const publish = new PendingPublish(this, topic, bytes, qos, options.retain ?? false, options.properties as MessageProperties | undefined, payloadSize(bytes), signal)
    this.#pending.add(publish)
    // Behind what waits already, in order; else straight to the link if it and the broker can take it.
    if (this.#queue.size === 0 && this.#connection.writable && this.#link.writable && this.#fits(qos)) {
      this.#send(publish)
    } else {
      const refused = this.#queue.enqueue(publish, !this.#connection.writable)
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
    this.#receiveMaximum = connack.receiveMaximum
    this.#qos2Limit = protocol === 4 ? QOS2_IN_FLIGHT_311 : 65_535
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
    this.#pump()
  }

  /** The link is writable again: what waited for its socket goes. */
  drained(): void {
    this.#pump()
  }

  /** Whether a publish explains this close; rejects it when the broker has refused it for good. */
  blamePublish(failures: readonly LinkFailure[], accepted: boolean): boolean {
    const verdict = blame(failures, accepted, this.#protocol, this.#inFlight, this.#connection.epoch, this.#now(), this.#qos2Strikes)
    if (!verdict) return false
    const { publish } = verdict
    if (verdict.strike) this.#qos2Strikes += 1
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
    // The broker answered a QoS 2 (PUBREC, then PUBCOMP or a reason code): it takes QoS 2, so no strike stands.
    if (publish.qos === 2 && (!error || error.received === true || typeof error.code === 'number')) this.#qos2Strikes = 0
    if (publish.state === 'settled') return
    if (!error) return this.#settle(publish)
    if (error.outcomeUnknown) return this.#lost(publish, error.received === true)
    if (this.#stopping) return this.#settle(publish, new ClientClosedError('the client was ended before the publish was acknowledged', error))
    const code = error.code
    this.#settle(publish, new PublishError(publish.topic, error.message, typeof code === 'number' ? { reasonCode: code } : {}))
  }

  /**
   * A publish's `timeout` or `signal`: rejected with PublishTimeoutError and given up, so that it is not sent
   * (or sent again as a PUBLISH) on a later connection. A timeout does not mean "not delivered": one already
   * written may have reached the broker, and the link keeps its packet identifier until its flow ends.
   */
  expired(publish: PendingPublish, reason: 'timeout' | 'abort'): void {
    if (publish.state === 'settled') return
    const written = publish.state === 'sent' ? ' (it was sent, so the broker may still have it)' : ''
    const error =
      reason === 'abort'
        ? new PublishTimeoutError(`publish to ${JSON.stringify(publish.topic)} aborted${written}`, { cause: publish.signal?.reason })
        : new PublishTimeoutError(`publish to ${JSON.stringify(publish.topic)} not acknowledged within the timeout${written}`)
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
    if (this.#log.tracing) this.#log.trace('publish', { topic: publish.topic, qos: publish.qos, bytes: publish.size }, `PUBLISH ${publish.topic} (QoS ${publish.qos}, ${publish.size} bytes)`)
    const packetId = this.#link.publish(publish.topic, publish.payload, publish, publish.onAck)
    // A QoS 0 publish may have settled already (written at once).
    if (packetId !== undefined && (publish.state as PendingPublish['state']) !== 'settled') {
      publish.packetId = packetId
      publish.inWindow = true
      this.#windowUsed += 1
      if (publish.qos === 2) this.#qos2Used += 1
      this.#inFlight.set(packetId, publish)
    }
  }

  /** Sends what waits, oldest first, as far as the connection, the link's socket and the broker's window allow. */
  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    try {
      const queue = this.#queue
      for (let next = queue.peek(); next; next = queue.peek()) {
        if (!this.#connection.writable || !this.#link.writable) break
        if (!this.#fits(next.qos)) break
        queue.shift()
        if (next.state === 'queued') this.#send(next)
      }
    } finally {
      this.#pumping = false
    }
  }

  /**
   * Takes a publish back from the queue, or gives it up in the link (never written again as a PUBLISH; one
   * already written keeps its identifier there until its flow ends), rejecting it with `error`.
   */
  #withdraw(publish: PendingPublish, error: Error): void {
    const queued = publish.state === 'queued'
    // Settled first: a late acknowledgement the link still reports is then ignored.
    this.#settle(publish, error)
    if (queued) this.#queue.remove(publish)
    if (publish.packetId !== undefined) {
      this.#inFlight.delete(publish.packetId)
      this.#link.withdraw(publish.packetId)
    }
  }

  /**
   * A QoS 2 publish the broker had not completed when a reconnect found its session gone: neither resolved
   * nor resent, its outcome unknown. Unless it was the second QoS 2 in a row the broker closed the connection
   * on right after it was sent (a strike, see poison.ts): under 3.1.1 that is how a broker refuses a QoS above
   * its maximum, so it is refused, and QoS 2 with it.
   */
  #lost(publish: PendingPublish, received: boolean): void {
    if (!refusedWithSession(publish, received, this.#qos2Strikes)) return this.#settle(publish, new PublishOutcomeUnknownError(publish.topic))
    this.#brokerMaxQos = Math.min(this.#brokerMaxQos, 1) as QoS
    this.#settle(publish, new PublishError(publish.topic, 'the broker closed the connection on this QoS 2 publish as on the one before: it supports QoS 1 at most', { reasonCode: QOS_NOT_SUPPORTED }))
  }

  /** Whether the broker's window has room for a publish of `qos` now. */
  #fits(qos: QoS): boolean {
    return qos === 0 || (this.#windowUsed < this.#receiveMaximum && (qos === 1 || this.#qos2Used < this.#qos2Limit))
  }

  /** A publish refused before it was queued or sent. */
  #refuse(topic: string, error: Error): Promise<void> {
    this.#log.warn('publish-refused', { topic, ...errorFields(error) }, `publish to ${JSON.stringify(topic)} refused: ${error.message}`)
    return Promise.reject(error)
  }

  #settle(publish: PendingPublish, error?: Error): void {
    if (!this.#pending.delete(publish)) return
    const freed = publish.inWindow
    if (freed) {
      publish.inWindow = false
      this.#windowUsed -= 1
      if (publish.qos === 2) this.#qos2Used -= 1
    }
    if (this.#log.tracing) {
      const outcome = error ? error.name : publish.qos === 0 ? 'written' : 'acknowledged'
      this.#log.trace('published', { topic: publish.topic, qos: publish.qos, packetId: publish.packetId, outcome, ...(error ? errorFields(error) : {}) }, `${publish.topic}${publish.packetId === undefined ? '' : ` (id ${publish.packetId})`}: ${outcome}`)
    }
    if (error && !(error instanceof ClientClosedError)) {
      this.#log.warn('publish-refused', { topic: publish.topic, qos: publish.qos, packetId: publish.packetId, ...errorFields(error) }, `publish to ${JSON.stringify(publish.topic)} failed: ${error.message}`)
    }
    publish.settle(error)
    if (this.#pending.size === 0) this.#onDrained?.()
    // A place in the broker's window: the next QoS 1/2 publish may go.
    else if (freed && this.#queue.size > 0) this.#pump()
  }
}
