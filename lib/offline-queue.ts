import { PublishError, QueueFullError } from './errors.js'
import type { QoS } from './message.js'
import type { OfflineQueueOptions } from './options.js'

export const DEFAULT_OFFLINE_QUEUE: Required<OfflineQueueOptions> = { maxMessages: 1_000, maxBytes: 1_048_576, qos0: 'queue' }

interface Entry {
  readonly size: number
  readonly send: () => void
}

/**
 * Publishes made while disconnected, in the order they were made, within count and byte limits. They
 * are handed to MQTT.js when the connection is back (MQTT.js's own offline queue has no bound and sends
 * QoS 1/2 before QoS 0).
 */
export class OfflineQueue {
  private entries: Entry[] = []
  private bytes = 0

  constructor(private readonly limits: Required<OfflineQueueOptions>) {}

  /**
   * Queues `send` for the next connection, or returns the error to reject the publish with. The returned
   * function takes the publish back out of the queue (a timeout or abort), if it is still there.
   */
  enqueue(topic: string, qos: QoS, size: number, send: () => void): (() => void) | Error {
    if (qos === 0 && this.limits.qos0 === 'reject') {
      return new PublishError(topic, 'the client is offline and QoS 0 messages are not queued (offlineQueue.qos0 is "reject")')
    }
    if (this.entries.length + 1 > this.limits.maxMessages || this.bytes + size > this.limits.maxBytes) {
      return new QueueFullError(
        `Publish to ${JSON.stringify(topic)} refused: the offline queue is full (${this.entries.length} messages, ${this.bytes} bytes; limits ${this.limits.maxMessages} messages, ${this.limits.maxBytes} bytes)`,
      )
    }
    const entry: Entry = { size, send }
    this.entries.push(entry)
    this.bytes += size
    return () => {
      const index = this.entries.indexOf(entry)
      if (index === -1) return
      this.entries.splice(index, 1)
      this.bytes -= size
    }
  }

  /** Sends everything queued, oldest first. */
  flush(): void {
    const entries = this.entries
    this.entries = []
    this.bytes = 0
    for (const entry of entries) entry.send()
  }

  /** Forgets everything queued (the client is closing; the publishes are settled by the caller). */
  clear(): void {
    this.entries = []
    this.bytes = 0
  }
}
