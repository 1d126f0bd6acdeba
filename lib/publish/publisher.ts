import { preparePublish } from './prepare-publish.js'
import { ClientClosedError, type IotPubSubError, MessageReplacedError, PublishOutcomeUnknownError } from '../errors.js'
import type { StoredMessage } from '../store/store.js'
import type { Connack, Link, LinkAckError, LinkFailure } from '../link/link.js'
import type { MessageProperties } from '../message.js'
import type { PublishOptions } from '../options/client-options.js'
import type { ResolvedOptions } from '../options/resolved-options.js'
import type { ProtocolVersion } from '../status.js'
import { OfflineQueue } from './offline-queue.js'
import { payloadSize } from './packet-size.js'
import { PendingPublish, type PublishHost } from './pending-publish.js'
import { BrokerLimits } from './broker-limits.js'
import { Log } from '../log/log.js'
import type { OutboxEvent } from './outbox.js'
import { OutboxKeeper } from './outbox-keeper.js'
import { sendWindow } from './send-window.js'
import { expiredError, type QueueExpiry, queueExpiry } from './queue-expiry.js'
import { ackError, givenUpError, logRefused, logSettled, type PublishLimits, refusal } from './publish-outcomes.js'
import { drainWait } from './drain-wait.js'
import type { Observable } from 'rxjs'

/** What the publisher reads of the connection: the SDK's own state, never MQTT.js's. */
export interface PublisherConnection {
  readonly writable: boolean
  readonly stopped: boolean
  readonly epoch: number
}

/**
 * `publish()`: the checks, the offline queue, one pending object per publish until its acknowledgement,
 * timeouts and aborts that take it back, the poison policy (broker-limits.ts). Flow control on the way out, the
 * same over every link: a publish goes to the link only while the link is `writable` and the broker's window
 * has room (send-window.ts); otherwise it waits in the queue, in order. The outbox of QoS 1/2 messages
 * (outbox-keeper.ts: `outbox$`, `collapse`, the store's records; restored by outbox-restore.ts, loaded with a
 * store alone) and `expiry` (queue-expiry.ts).
 */
export class Publisher implements PublishHost {
  /** Every publish not yet settled. */
  readonly #pending = new Set<PendingPublish>()
  /** Sent QoS 1/2 publishes by packet id, oldest first (a Map keeps insertion order). */
  readonly #inFlight = new Map<number, PendingPublish>()
  readonly #queue: OfflineQueue<PendingPublish>
  readonly #window = sendWindow()
  readonly #broker = new BrokerLimits()
  #closedError: IotPubSubError | undefined
  #stopping = false
  readonly #drain = drainWait()
  /** `#pump()` is under way: a settle within one of its sends leaves the sending to it. */
  #pumping = false
  /** The QoS 1/2 messages held: ids, `outbox$`, the store's records, `collapse`. */
  readonly #box = new OutboxKeeper()
  /** Nothing is sent before what the store held is restored, ahead of this run's publishes. */
  #restoring: boolean
  readonly #expiry: QueueExpiry

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
    this.#expiry = queueExpiry(() => this.#queue.entries(), (p: PendingPublish, error) => this.#withdraw(p, error), now)
  }

  get size(): number {
    return this.#pending.size
  }

  get outbox$(): Observable<OutboxEvent> {
    return this.#box.events.outbox$
  }

  publish<T>(topic: string, payload: T, options: PublishOptions<T>): Promise<void> {
    const prepared = preparePublish(topic, payload, options)
    if ('error' in prepared) return this.#refuse(topic, prepared.error)
    const { bytes, qos, properties } = prepared
    // The id of a message held: that message (a publish handed on again, by a tab to a new hub), not a second one.
    const held = qos > 0 && options.id !== undefined ? this.#box.events.held.get(options.id) : undefined
    if (held) return held.promise
    if (this.#stopping || this.#connection.stopped) return this.#refuse(topic, new ClientClosedError('publish() on a client that has ended', this.#closedError))
    // The checked copy of the properties: what is sent later is what was checked, whatever the app does with its object.
    const refused = refusal(topic, bytes, qos, properties === options.properties ? (options as PublishOptions<unknown>) : { ...(options as PublishOptions<unknown>), properties }, this.#broker.limits(this.#options))
    if (refused) return this.#refuse(topic, refused)
    const publish = new PendingPublish(this, topic, bytes, qos, options.retain ?? false, properties as MessageProperties | undefined, payloadSize(bytes), options.signal)
    if (options.expiry !== undefined) publish.expiresAt = this.#now() + options.expiry * 1000
    if (options.collapse === true) {
      publish.collapse = true
      const older = this.#box.replaced(topic)
      if (older) this.#withdraw(older, replacedError(topic))
    }
    const stored = qos > 0 && this.#options.store !== undefined
    if (qos > 0) {
      publish.durable = !stored
      this.#box.hold(publish, options.id)
    }
    this.#pending.add(publish)
    // Behind what waits already, in order; else straight to the link if it and the broker can take it. With a
    // store, a QoS 1/2 publish waits for its record to be durable.
    if (!stored && this.#queue.size === 0 && !this.#restoring && this.#connection.writable && this.#link.writable && this.#window.fits(qos)) {
      this.#box.queued(publish)
      this.#send(publish)
    } else {
      const full = this.#queue.enqueue(publish, !this.#connection.writable)
      if (full) this.#settle(publish, full)
      else {
        this.#held(publish)
        // Before the store is open, `restored()` records it.
        if (!stored) this.#box.queued(publish)
        else if (this.#box.store) this.#record(publish)
      }
    }
    if (publish.state !== 'settled') publish.watch(options.timeout)
    return publish.promise
  }

  connected(connack: Connack, protocol: ProtocolVersion): void {
    this.#broker.connack(connack, protocol)
    this.#window.connected(connack.receiveMaximum, protocol)
    // The broker kept no session: the packet identifiers and incoming QoS 2 state the store holds mean nothing now.
    if (!connack.sessionPresent) this.#box.change({ type: 'sessionLost' })
    // The link resends the unacknowledged ones first, on this connection.
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
    const verdict = this.#broker.blame(failures, accepted, this.#inFlight, this.#connection.epoch, this.#now())
    if (!verdict) return false
    if (verdict.error) this.#withdraw(verdict.publish, verdict.error)
    else verdict.publish.strikes += 1
    return true
  }

  /**
   * Opens the store for `clientId` and puts what it held ahead of this run's publishes (outbox-restore.ts).
   * Resolves with the parts of the store that could not be read; rejects when it cannot be opened.
   */
  async restore(clientId: string): Promise<readonly Error[]> {
    const store = this.#options.store
    if (!store) return []
    const opened = await this.#box.open(store, clientId, this.#log).finally(() => (this.#restoring = false))
    const parts = { pending: this.#pending, inFlight: this.#inFlight, queue: this.#queue, window: this.#window, box: this.#box, pump: () => this.#pump(), queued: (p: PendingPublish) => this.#held(p) }
    const create = (m: StoredMessage): PendingPublish => new PendingPublish(this, m.topic, m.payload, m.qos, m.retain, m.properties, m.payload.length, undefined)
    const lose = (p: PendingPublish): void => this.#settle(p, new PublishOutcomeUnknownError(p.topic))
    const replace = (p: PendingPublish): void => this.#settle(p, replacedError(p.topic))
    if (!this.#stopping) opened.restore.restoreOutbox({ ...parts, create, record: (p) => this.#record(p), lose, replace }, this.#link, opened.binding, opened.session)
    return opened.session.problems
  }

  /** Once the store is open (or failed to), writes what is pending and lets it go; never rejects. */
  closeStore(): Promise<void> {
    return this.#box.close()
  }

  /** A QoS 1/2 publish's record, written before it may be sent; a write that fails refuses the publish. */
  #record(publish: PendingPublish): void {
    this.#box.record(publish, () => this.#pump(), (error) => this.#withdraw(publish, error))
  }

  /** A publish now in the queue: the latest `collapse` one of its topic, and its expiry timed. */
  #held(publish: PendingPublish): void {
    this.#box.queuedBehind(publish)
    if (publish.expiresAt !== undefined) this.#expiry.arm(publish.expiresAt)
  }

  acked(publish: PendingPublish, error: LinkAckError | undefined): void {
    if (publish.packetId !== undefined && this.#inFlight.get(publish.packetId) === publish) this.#inFlight.delete(publish.packetId)
    this.#broker.answered(publish, error)
    if (publish.state === 'settled') return
    if (!error) return this.#settle(publish)
    if (error.outcomeUnknown) return this.#settle(publish, this.#broker.lost(publish, error.received === true))
    // Given up by the link as the client ends (MQTT.js's removeOutgoingMessage in end()), not refused by the
    // broker: like the rest of what stop() settles, it stays in the store for the next client.
    const givenUp = this.#stopping && typeof error.code !== 'number'
    this.#box.keeping = givenUp && this.#options.store !== undefined
    try {
      this.#settle(publish, ackError(publish.topic, error, this.#stopping))
    } finally {
      this.#box.keeping = false
    }
  }

  /** A publish's `timeout` or `signal`: rejected and given up, so that it is not sent (again) on a later connection. */
  expired(publish: PendingPublish, reason: 'timeout' | 'abort'): void {
    if (publish.state !== 'settled') this.#withdraw(publish, givenUpError(publish, reason))
  }

  /** Resolves when nothing is pending, or at `deadline` (a time from `now`). */
  drain(deadline: number): Promise<void> {
    this.#stopping = true
    if (this.#pending.size === 0 || !this.#connection.writable) return Promise.resolve()
    return this.#drain.wait(deadline - this.#now())
  }

  /** Rejects everything still pending: the client has stopped. */
  stop(error: IotPubSubError | undefined): void {
    this.#stopping = true
    this.#closedError = error
    this.#queue.takeAll()
    this.#expiry.stop()
    const rejection = new ClientClosedError('the client was ended before the operation completed', error)
    this.#box.keeping = this.#options.store !== undefined
    for (const publish of [...this.#pending]) this.#settle(publish, error ?? rejection)
    this.#box.keeping = false
    this.#inFlight.clear()
    this.#box.events.complete()
    void this.closeStore()
  }

  #send(publish: PendingPublish): void {
    publish.state = 'sent'
    publish.epoch = this.#connection.epoch
    const now = (publish.sentAt = this.#now())
    // MQTT 5 §3.3.2.3.3: the interval sent is the time the message has left.
    if (publish.expiresAt !== undefined) publish.properties = { ...publish.properties, messageExpiryInterval: Math.max(1, Math.ceil((publish.expiresAt - now) / 1000)) }
    this.#box.sending(publish)
    this.#beforeSend()
    if (this.#log.tracing) this.#log.trace('publish', { topic: publish.topic, qos: publish.qos, bytes: publish.size }, `PUBLISH ${publish.topic} (QoS ${publish.qos}, ${publish.size} bytes)`)
    const packetId = this.#link.publish(publish.topic, publish.payload, publish, publish.onAck)
    // A QoS 0 publish may have settled already (written at once).
    if (packetId !== undefined && (publish.state as PendingPublish['state']) !== 'settled') {
      publish.packetId = packetId
      this.#window.take(publish)
      this.#inFlight.set(packetId, publish)
      this.#box.sent(publish, packetId)
    }
  }

  /** Sends what waits, oldest first, as far as the connection, the link's socket and the broker's window allow. */
  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    try {
      const queue = this.#queue
      let limits: PublishLimits | undefined
      for (let next = queue.peek(); next && !this.#restoring; next = queue.peek()) {
        if (next.expiresAt !== undefined && next.expiresAt <= this.#now()) {
          this.#withdraw(next, expiredError(next))
          continue
        }
        if (!next.durable || !this.#connection.writable || !this.#link.writable || !this.#window.fits(next.qos)) break
        // Made before this connection's CONNACK, perhaps: its limits (maximum QoS, retain, packet size) hold now.
        const refused = next.state === 'queued' ? refusal(next.topic, next.payload, next.qos, next, (limits ??= this.#broker.limits(this.#options))) : undefined
        if (refused) {
          this.#withdraw(next, refused)
          continue
        }
        queue.shift()
        if (next.state === 'queued') this.#send(next)
      }
    } finally {
      this.#pumping = false
    }
  }

  /** Rejects a publish with `error` and takes it back from the queue, or gives it up in the link (Link.withdraw). */
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

  #refuse(topic: string, error: Error): Promise<void> {
    logRefused(this.#log, topic, error)
    return Promise.reject(error)
  }

  #settle(publish: PendingPublish, error?: Error): void {
    if (!this.#pending.delete(publish)) return
    this.#box.settled(publish, error)
    const freed = this.#window.free(publish)
    logSettled(this.#log, publish, error, error instanceof ClientClosedError)
    publish.settle(error)
    if (this.#pending.size === 0) this.#drain.drained()
    // A place in the broker's window: the next QoS 1/2 publish may go.
    else if (freed && this.#queue.size > 0) this.#pump()
  }
}

/** A queued `collapse` publish that a newer one to its topic replaced. */
function replacedError(topic: string): MessageReplacedError {
  return new MessageReplacedError(topic, 'a newer message to the topic, also with collapse, replaced it before it was sent')
}
