import { ClientClosedError, ConnectionLostError, type IotPubSubError, MessageExpiredError, MessageReplacedError, PublishTimeoutError } from '../errors.js'
import { type OutboxEntry, OutboxEvents, type OutboxState } from '../publish/outbox.js'
import type { PublishOptions } from '../options/client-options.js'
import { preparePublish } from '../publish/prepare-publish.js'
import type { PublishRequest, ToHub } from './tab-protocol.js'

/** One publish of this tab, from the call until the hub's answer. */
interface TabPublish {
  readonly request: PublishRequest
  /** The hub it was handed to, if any: a hub that goes away takes its QoS 0 publishes with it. */
  sentTo: string | undefined
  resolve(): void
  reject(error: IotPubSubError): void
  cleanup(): void
}

/** A message on this tab's `outbox$`: one of its publishes, or one the hub restored that no open tab handed over. */
interface TabOutboxEntry extends OutboxEntry {
  state: 'queued' | 'sent' | 'settled'
  durable: boolean
  /** Restored by the hub from its store, not published by this tab: it has no promise here. */
  readonly restored: boolean
}

/**
 * One tab's publishes on a shared connection. The tab checks and encodes (so bad input fails at once, with
 * the same errors as a connection of its own), the hub publishes and answers. A QoS 1 or 2 publish whose hub
 * went away before answering is handed to the next hub (at least once, as MQTT's own resend is); a QoS 0 one
 * already handed over fails with `ConnectionLostError`, since it may or may not have been sent.
 */
export class TabPublisher {
  readonly #pending = new Map<number, TabPublish>()
  /**
   * The QoS 1/2 messages of this tab, and those the hub restored from its store, for its `outbox$`: `queued` and
   * `sent` as the hub's outbox reports them (`queued` once the message is durable in the hub's store), then how
   * the hub answered.
   */
  readonly outbox = new OutboxEvents<TabOutboxEntry>()
  #nextId = 1
  #closed: IotPubSubError | undefined
  /** `end()` has begun: what is pending may still be answered, nothing new is taken (as by a client of its own). */
  #stopping = false
  #hub: string | undefined
  #onDrained: (() => void) | undefined

  readonly #send: (message: ToHub) => void
  readonly #tab: string

  constructor(send: (message: ToHub) => void, tab: string) {
    this.#send = send
    this.#tab = tab
  }

  publish<T>(topic: string, payload: T, options: PublishOptions<T>): Promise<void> {
    const prepared = preparePublish(topic, payload, options)
    if ('error' in prepared) return Promise.reject(prepared.error)
    const { bytes, qos, properties } = prepared
    if (this.#closed || this.#stopping) return Promise.reject(new ClientClosedError('publish() on a client that has ended', this.#closed))
    const { signal, timeout } = options
    if (signal?.aborted) return Promise.reject(new PublishTimeoutError('publish aborted before it was sent', { cause: signal.reason }))
    const id = this.#nextId++
    const outboxId = qos > 0 ? (options.id ?? this.outbox.nextId()) : undefined
    const request: PublishRequest = {
      id,
      topic,
      payload: bytes,
      qos,
      retain: options.retain ?? false,
      properties,
      ...(outboxId === undefined ? {} : { outboxId }),
      ...(options.expiry === undefined ? {} : { expiresAt: Date.now() + options.expiry * 1000 }),
      ...(options.collapse ? { collapse: true } : {}),
    }
    if (outboxId !== undefined) this.outbox.held.set(outboxId, { id: outboxId, topic, state: 'queued', durable: false, restored: false })
    return new Promise<void>((resolve, reject) => {
      const expire = (reason: string, cause?: unknown): void => {
        if (!this.#pending.has(id)) return
        this.settle(id, new PublishTimeoutError(reason, cause === undefined ? {} : { cause }))
        this.#send({ t: 'cancel', tab: this.#tab, id })
      }
      const timer = timeout === undefined ? undefined : setTimeout(() => expire(`publish not acknowledged within ${timeout} ms`), timeout)
      const onAbort = (): void => expire('publish aborted', signal?.reason)
      signal?.addEventListener('abort', onAbort, { once: true })
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      const publish: TabPublish = { request, sentTo: undefined, resolve, reject, cleanup }
      this.#pending.set(id, publish)
      if (this.#hub) this.#handTo(publish, this.#hub)
    })
  }

  /** The hub answered. */
  settle(id: number, error: IotPubSubError | undefined): void {
    const publish = this.#pending.get(id)
    if (!publish) return
    this.#pending.delete(id)
    publish.cleanup()
    const { outboxId } = publish.request
    const entry = outboxId === undefined ? undefined : this.outbox.held.get(outboxId)
    if (entry && !entry.restored) this.#settled(entry, !error ? 'acknowledged' : error instanceof MessageExpiredError ? 'expired' : error instanceof MessageReplacedError ? 'replaced' : 'failed')
    if (error) publish.reject(error)
    else publish.resolve()
    if (this.#pending.size === 0) this.#onDrained?.()
  }

  /** The hub's outbox reports one of this tab's publishes: durable in its store (`queued`), or `sent`. */
  outboxState(id: number, state: 'queued' | 'sent'): void {
    const request = this.#pending.get(id)?.request
    if (request?.outboxId !== undefined) this.#report(request.outboxId, request.topic, state)
  }

  /**
   * A message of the hub's outbox that no open tab handed to it (restored from its store after its tab was
   * closed): shown on this tab's `outbox$` too. One of this tab's own, handed over again, is its own.
   */
  restored(outboxId: string, topic: string, state: OutboxState): void {
    const entry = this.outbox.held.get(outboxId)
    if (state === 'queued' || state === 'sent') return this.#report(outboxId, topic, state)
    if (entry?.restored) this.#settled(entry, state)
  }

  #report(outboxId: string, topic: string, state: 'queued' | 'sent'): void {
    let entry = this.outbox.held.get(outboxId)
    if (!entry) {
      entry = { id: outboxId, topic, state: 'queued', durable: false, restored: true }
      this.outbox.held.set(outboxId, entry)
    }
    if (entry.state === 'settled') return
    if (!entry.durable) {
      entry.durable = true
      this.outbox.emit(outboxId, entry.topic, 'queued')
    }
    if (state === 'sent') {
      entry.state = 'sent'
      this.outbox.emit(outboxId, entry.topic, 'sent')
    }
  }

  /** A message leaves the outbox; one never reported `queued` leaves without a word, as with a connection of its own. */
  #settled(entry: TabOutboxEntry, state: OutboxState): void {
    this.outbox.held.delete(entry.id as string)
    entry.state = 'settled'
    if (entry.durable) this.outbox.emit(entry.id as string, entry.topic, state)
  }

  /** A hub that knows this tab: the publishes it has not seen go to it. */
  welcome(hub: string): void {
    this.#hub = hub
    for (const publish of this.#takeFor(hub)) this.#handTo(publish, hub)
  }

  /** A new hub: what it must be told in this tab's hello (it has not seen any of it). */
  handover(hub: string): PublishRequest[] {
    this.#hub = hub
    return this.#takeFor(hub).map((publish) => {
      publish.sentTo = hub
      return publish.request
    })
  }

  /** Resolves when nothing is pending, or at `deadline` (ms since the epoch). */
  drain(deadline: number): Promise<void> {
    this.#stopping = true
    if (this.#pending.size === 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()))
      const previous = this.#onDrained
      this.#onDrained = done
      function done(): void {
        clearTimeout(timer)
        previous?.()
        resolve()
      }
    })
  }

  /** The client ends: whatever is still pending fails. */
  stop(error: IotPubSubError | undefined): void {
    this.#closed = error ?? new ClientClosedError('The client has ended')
    for (const id of [...this.#pending.keys()]) this.settle(id, new ClientClosedError('the client ended before the publish was acknowledged', error))
    this.#onDrained = undefined
    this.outbox.complete()
  }

  #takeFor(hub: string): TabPublish[] {
    const taken: TabPublish[] = []
    for (const publish of [...this.#pending.values()]) {
      if (publish.sentTo === hub) continue
      if (publish.sentTo !== undefined && publish.request.qos === 0) {
        this.settle(publish.request.id, new ConnectionLostError('the tab holding the shared connection went away before answering; a QoS 0 message may or may not have been sent'))
      } else {
        taken.push(publish)
      }
    }
    return taken
  }

  #handTo(publish: TabPublish, hub: string): void {
    publish.sentTo = hub
    this.#send({ t: 'publish', tab: this.#tab, publish: publish.request })
  }
}
