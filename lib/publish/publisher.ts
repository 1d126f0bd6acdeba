import { preparePublish } from './prepare-publish.js'
import { ClientClosedError, type IotPubSubError, MessageExpiredError, MessageReplacedError, PayloadTooLargeError, PublishError, PublishOutcomeUnknownError, PublishTimeoutError } from '../errors.js'
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
import { MAX_TIMER_MS } from '../options/validate.js'
import { errorFields, Log } from '../log/log.js'
import type { StoredSession } from '../store/store.js'
import { type OutboxEvent, OutboxEvents, type OutboxState } from './outbox.js'
import { openStore, type StoreBinding } from './outbox-store.js'
import type { Observable } from 'rxjs'


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
 * link unacknowledged; otherwise it waits in the queue, in order, within the offline queue's limits. And the
 * outbox of QoS 1/2 messages: `outbox$`, `expiry` (one timer for the queue), `collapse`, and with a `store`
 * each message recorded before it is sent and restored, ahead of new ones, by the next client on the store.
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
  /** The QoS 1/2 messages held, by id, and `outbox$`. */
  readonly #outbox = new OutboxEvents<PendingPublish>()
  /** The `store` option once open; undefined before, and without one (the outbox is this object's memory alone). */
  #store: StoreBinding | undefined
  /** Settles once `restore()` has opened the store, or failed to. */
  #opened: Promise<unknown> | undefined
  #closed: Promise<void> | undefined
  /** Nothing is sent before what the store held is restored, ahead of this run's publishes. */
  #restoring: boolean
  /** The queued `collapse` publish of each topic. */
  readonly #collapsible = new Map<string, PendingPublish>()
  /** One timer for the queue: at the earliest expiry of a queued publish. */
  #expiryTimer: ReturnType<typeof setTimeout> | undefined
  #expiryAt = Infinity
  /** `stop()` is settling what is pending: a stored message stays in the store. */
  #keeping = false

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
    this.#restoring = options.store !== undefined
  }

  get size(): number {
    return this.#pending.size
  }

  get outbox$(): Observable<OutboxEvent> {
    return this.#outbox.outbox$
  }

  publish<T>(topic: string, payload: T, options: PublishOptions<T>): Promise<void> {
    const prepared = preparePublish(topic, payload, options)
    if ('error' in prepared) return this.#refuse(topic, prepared.error)
    const { bytes, qos } = prepared
    // The id of a message held: that message (a publish handed on again, by a tab to a new hub), not a second one.
    const held = qos > 0 && options.id !== undefined ? this.#outbox.held.get(options.id) : undefined
    if (held) return held.promise
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
    if (options.expiry !== undefined) publish.expiresAt = this.#now() + options.expiry * 1000
    if (options.collapse === true) {
      publish.collapse = true
      const older = this.#collapsible.get(topic)
      if (older?.state === 'queued') this.#withdraw(older, new MessageReplacedError(topic, 'a newer message to the topic, also with collapse, replaced it before it was sent'))
    }
    const stored = qos > 0 && this.#options.store !== undefined
    if (qos > 0) {
      const id = options.id ?? this.#outbox.nextId()
      publish.id = id
      publish.durable = !stored
      this.#outbox.held.set(id, publish)
    }
    this.#pending.add(publish)
    // Behind what waits already, in order; else straight to the link if it and the broker can take it. With a
    // store, a QoS 1/2 publish waits for its record to be durable.
    if (!stored && this.#queue.size === 0 && !this.#restoring && this.#connection.writable && this.#link.writable && this.#fits(qos)) {
      this.#queued(publish)
      this.#send(publish)
    } else {
      const refused = this.#queue.enqueue(publish, !this.#connection.writable)
      if (refused) this.#settle(publish, refused)
      else {
        if (publish.collapse) this.#collapsible.set(topic, publish)
        if (publish.expiresAt !== undefined) this.#armExpiry(publish.expiresAt)
        // Before the store is open, `restore()` records it.
        if (!stored) this.#queued(publish)
        else if (this.#store) this.#record(publish)
      }
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

  // --- the store ---------------------------------------------------------------------------------------------

  /**
   * Opens the store for `clientId` and puts what it held ahead of this run's publishes, in order: a message
   * that was on the wire goes again as a new one at QoS 1 (at least once); at QoS 2 it ends `failed` with
   * `PublishOutcomeUnknownError`, the rule for a lost session (this process holds no session state of it).
   * Resolves with the parts of the store that could not be read; rejects when it cannot be opened.
   */
  async restore(clientId: string): Promise<readonly Error[]> {
    const store = this.#options.store
    if (!store) return []
    let session: StoredSession
    try {
      const opening = openStore(store, clientId, this.#log)
      this.#opened = opening
      const opened = await opening
      this.#store = opened.binding
      session = opened.session
    } finally {
      this.#restoring = false
    }
    if (this.#stopping) return session.problems
    const restored: PendingPublish[] = []
    for (const m of session.messages) {
      if (this.#outbox.held.has(m.id)) continue
      const publish = new PendingPublish(this, m.topic, m.payload, m.qos, m.retain, m.properties, m.payload.length, undefined)
      publish.id = m.id
      publish.expiresAt = m.expiresAt
      publish.collapse = m.collapse === true
      publish.recorded = true
      // Nobody awaits it: its outcome is on outbox$.
      publish.promise.catch(() => undefined)
      this.#outbox.held.set(m.id, publish)
      this.#pending.add(publish)
      this.#outbox.emit(m.id, m.topic, 'queued')
      if (m.packetId !== undefined && m.qos === 2) {
        this.#settle(publish, new PublishOutcomeUnknownError(m.topic))
        continue
      }
      restored.push(publish)
      if (publish.collapse && !this.#collapsible.has(m.topic)) this.#collapsible.set(m.topic, publish)
      if (publish.expiresAt !== undefined) this.#armExpiry(publish.expiresAt)
    }
    // Restored ones go first: the held map lists them after this run's, so it is rebuilt in queue order.
    const first = new Set(restored)
    const mine = [...this.#outbox.held].filter(([, p]) => !first.has(p))
    this.#outbox.held.clear()
    for (const p of restored) this.#outbox.held.set(p.id as string, p)
    for (const [id, p] of mine) this.#outbox.held.set(id, p)
    this.#queue.prepend(restored)
    // This run's publishes made while the store opened, recorded now, in order.
    for (const p of this.#queue.entries()) if (!p.recorded && p.id !== undefined) this.#record(p)
    this.#pump()
    return session.problems
  }

  /** Once the store is open (or failed to), writes what is pending and lets it go; never rejects. */
  closeStore(): Promise<void> {
    this.#closed ??= (this.#opened ?? Promise.resolve()).then(() => this.#store?.close(), () => undefined)
    return this.#closed
  }

  /** A QoS 1/2 publish's record, written before it may be sent; a write that fails refuses the publish. */
  #record(publish: PendingPublish): void {
    this.#store?.record(
      publish,
      () => {
        if (publish.state === 'settled') return
        this.#queued(publish)
        this.#pump()
      },
      (error) => this.#withdraw(publish, error),
    )
  }

  #queued(publish: PendingPublish): void {
    publish.durable = true
    if (publish.id !== undefined) this.#outbox.emit(publish.id, publish.topic, 'queued')
  }

  // --- expiry ------------------------------------------------------------------------------------------------

  #armExpiry(at: number): void {
    if (this.#expiryTimer !== undefined && at >= this.#expiryAt) return
    clearTimeout(this.#expiryTimer)
    this.#expiryAt = at
    this.#expiryTimer = setTimeout(() => this.#expire(), Math.min(Math.max(0, at - this.#now()), MAX_TIMER_MS))
  }

  /** Takes out every queued publish past its expiry, and sets the timer for the next one. */
  #expire(): void {
    this.#expiryTimer = undefined
    this.#expiryAt = Infinity
    const now = this.#now()
    let next = Infinity
    for (const publish of this.#queue.entries()) {
      const at = publish.expiresAt
      if (at === undefined) continue
      if (at <= now) this.#withdraw(publish, expiredError(publish))
      else next = Math.min(next, at)
    }
    if (next !== Infinity) this.#armExpiry(next)
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
    clearTimeout(this.#expiryTimer)
    this.#expiryTimer = undefined
    const rejection = new ClientClosedError('the client was ended before the operation completed', error)
    this.#keeping = true
    for (const publish of [...this.#pending]) this.#settle(publish, error ?? rejection)
    this.#keeping = false
    this.#inFlight.clear()
    this.#outbox.complete()
    void this.closeStore()
  }

  #send(publish: PendingPublish): void {
    publish.state = 'sent'
    publish.epoch = this.#connection.epoch
    const now = (publish.sentAt = this.#now())
    if (publish.collapse && this.#collapsible.get(publish.topic) === publish) this.#collapsible.delete(publish.topic)
    // MQTT 5 §3.3.2.3.3: the interval sent is the time the message has left.
    if (publish.expiresAt !== undefined) publish.properties = { ...publish.properties, messageExpiryInterval: Math.max(1, Math.ceil((publish.expiresAt - now) / 1000)) }
    if (publish.id !== undefined) this.#outbox.emit(publish.id, publish.topic, 'sent')
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
      if (publish.recorded) this.#store?.change({ type: 'sent', id: publish.id as string, packetId })
    }
  }

  /** Sends what waits, oldest first, as far as the connection, the link's socket and the broker's window allow. */
  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    try {
      const queue = this.#queue
      for (let next = queue.peek(); next && !this.#restoring; next = queue.peek()) {
        if (next.expiresAt !== undefined && next.expiresAt <= this.#now()) {
          this.#withdraw(next, expiredError(next))
          continue
        }
        if (!next.durable || !this.#connection.writable || !this.#link.writable) break
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
    if (publish.collapse && this.#collapsible.get(publish.topic) === publish) this.#collapsible.delete(publish.topic)
    const id = publish.id
    if (id !== undefined && this.#outbox.held.get(id) === publish) {
      this.#outbox.held.delete(id)
      // Ending the client leaves a stored message in its store, for the next client with that store.
      const kept = this.#options.store !== undefined && this.#keeping
      if (publish.recorded && !kept) this.#store?.change({ type: 'remove', id })
      if (publish.durable && !kept) this.#outbox.emit(id, publish.topic, outboxState(error))
    }
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

function expiredError(publish: PendingPublish): MessageExpiredError {
  return new MessageExpiredError(publish.topic, 'its expiry passed before it could be sent')
}

function outboxState(error: Error | undefined): OutboxState {
  if (!error) return 'acknowledged'
  if (error instanceof MessageExpiredError) return 'expired'
  if (error instanceof MessageReplacedError) return 'replaced'
  return 'failed'
}
