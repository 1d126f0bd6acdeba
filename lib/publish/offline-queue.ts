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
 * limits (MQTT.js's own offline queue has no bound and sends QoS 1/2 before QoS 0).
 *
 * @example
 * ```ts
 * const queue = new OfflineQueue<Queueable>({ maxMessages: 1000, maxBytes: 1 << 20, qos0: 'queue' })
 * queue.enqueue({ topic: 'a', qos: 1, size: 3 }) // undefined: queued
 * ```
 */
export class OfflineQueue<T extends Queueable> {
  #entries: T[] = []
  #bytes = 0

  readonly #limits: Readonly<Required<OfflineQueueOptions>>

  constructor(limits: Readonly<Required<OfflineQueueOptions>>) {
    this.#limits = limits
  }

  get size(): number {
    return this.#entries.length
  }

  /** Queues `item`, or returns the error to reject its publish with. */
  enqueue(item: T): Error | undefined {
    if (item.qos === 0 && this.#limits.qos0 === 'reject') {
      return new PublishError(item.topic, 'the client is offline and QoS 0 messages are not queued (offlineQueue.qos0 is "reject")')
    }
    if (this.#entries.length + 1 > this.#limits.maxMessages || this.#bytes + item.size > this.#limits.maxBytes) {
      return new QueueFullError(
        `Publish to ${JSON.stringify(item.topic)} refused: the offline queue is full (${this.#entries.length} messages, ${this.#bytes} bytes; limits ${this.#limits.maxMessages} messages, ${this.#limits.maxBytes} bytes)`,
      )
    }
    this.#entries.push(item)
    this.#bytes += item.size
    return undefined
  }

  /** Takes `item` back out (a timeout or abort); false when it was not queued. */
  remove(item: T): boolean {
    const index = this.#entries.indexOf(item)
    if (index === -1) return false
    this.#entries.splice(index, 1)
    this.#bytes -= item.size
    return true
  }

  /** Everything queued, oldest first, leaving the queue empty. */
  takeAll(): T[] {
    const entries = this.#entries
    this.#entries = []
    this.#bytes = 0
    return entries
  }
}
