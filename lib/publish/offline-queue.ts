import { PublishError, QueueFullError } from '../errors.js'
import type { QoS } from '../message.js'
import type { OfflineQueueOptions } from '../options/client-options.js'

/** What the queue needs of a publish. */
export interface Queueable {
  readonly topic: string
  readonly qos: QoS
  /** Payload bytes as sent. */
  readonly size: number
}

/**
 * Publishes made while no connection can take them, in the order they were made, within count and byte
 * limits (MQTT.js's own offline queue has no bound and sends QoS 1/2 before QoS 0). The same queue, with the
 * same limits, holds what waits while connected: for the socket to drain, or for the broker's receive maximum.
 *
 * @example
 * ```ts
 * const queue = new OfflineQueue<Queueable>({ maxMessages: 1000, maxBytes: 1 << 20, qos0: 'queue' })
 * queue.enqueue({ topic: 'a', qos: 1, size: 3 }) // undefined: queued
 * ```
 */
export class OfflineQueue<T extends Queueable> {
  #entries: T[] = []
  /** Entries before it were taken by `shift()`: a long queue is taken from without moving the rest each time. */
  #head = 0
  #bytes = 0

  readonly #limits: Readonly<Required<OfflineQueueOptions>>

  constructor(limits: Readonly<Required<OfflineQueueOptions>>) {
    this.#limits = limits
  }

  get size(): number {
    return this.#entries.length - this.#head
  }

  /**
   * Queues `item`, or returns the error to reject its publish with. `offline`: no connection can take it (a QoS
   * 0 publish may be refused then); else it waits for the connection's socket or for the broker's window.
   */
  enqueue(item: T, offline = true): Error | undefined {
    if (offline && item.qos === 0 && this.#limits.qos0 === 'reject') {
      return new PublishError(item.topic, 'the client is offline and QoS 0 messages are not queued (offlineQueue.qos0 is "reject")')
    }
    const size = this.size
    if (size + 1 > this.#limits.maxMessages || this.#bytes + item.size > this.#limits.maxBytes) {
      const why = offline ? 'the offline queue is full' : 'the queue of publishes waiting for the connection (slower than the publisher) is full'
      return new QueueFullError(
        `Publish to ${JSON.stringify(item.topic)} refused: ${why} (${size} messages, ${this.#bytes} bytes; limits ${this.#limits.maxMessages} messages, ${this.#limits.maxBytes} bytes: offlineQueue)`,
      )
    }
    this.#entries.push(item)
    this.#bytes += item.size
    return undefined
  }

  /** Takes `item` back out (a timeout or abort); false when it was not queued. */
  remove(item: T): boolean {
    const index = this.#entries.indexOf(item, this.#head)
    if (index === -1) return false
    this.#entries.splice(index, 1)
    this.#bytes -= item.size
    return true
  }

  /** Puts `items` before everything queued (restored from a store: older than any publish of this run), over the limits if need be. */
  prepend(items: readonly T[]): void {
    this.#entries = [...items, ...this.#entries.slice(this.#head)]
    this.#head = 0
    for (const item of items) this.#bytes += item.size
  }

  /** Every entry, oldest first, left in the queue (a copy: the caller may take entries out meanwhile). */
  entries(): T[] {
    return this.#entries.slice(this.#head)
  }

  /** The oldest entry, left in the queue. */
  peek(): T | undefined {
    return this.#entries[this.#head]
  }

  /** Takes the oldest entry out. */
  shift(): T | undefined {
    const item = this.#entries[this.#head]
    if (item === undefined) return undefined
    this.#head += 1
    this.#bytes -= item.size
    if (this.#head === this.#entries.length) this.takeAll()
    else if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  /** Everything queued, oldest first, leaving the queue empty. */
  takeAll(): T[] {
    const entries = this.#head === 0 ? this.#entries : this.#entries.slice(this.#head)
    this.#entries = []
    this.#head = 0
    this.#bytes = 0
    return entries
  }
}
