import { PublishError, QueueFullError } from './errors.js'
import type { QoS } from './message.js'
import type { OfflineQueueOptions } from './options.js'

export const DEFAULT_OFFLINE_QUEUE: Required<OfflineQueueOptions> = { maxMessages: 1_000, maxBytes: 1_048_576, qos0: 'queue' }

/**
 * Accounts for publishes made while disconnected, which MQTT.js holds until the next connection (its own
 * queue has no bound). A publish is counted from the moment it is queued until it settles.
 */
export class OfflineQueue {
  private messages = 0
  private bytes = 0

  constructor(private readonly limits: Required<OfflineQueueOptions>) {}

  /**
   * Admits a publish made while offline, or returns the error to reject it with. The returned function
   * releases its place and must be called once when the publish settles.
   */
  admit(topic: string, qos: QoS, size: number): (() => void) | Error {
    if (qos === 0 && this.limits.qos0 === 'reject') {
      return new PublishError(topic, 'the client is offline and QoS 0 messages are not queued (offlineQueue.qos0 is "reject")')
    }
    if (this.messages + 1 > this.limits.maxMessages || this.bytes + size > this.limits.maxBytes) {
      return new QueueFullError(
        `Publish to ${JSON.stringify(topic)} refused: the offline queue is full (${this.messages} messages, ${this.bytes} bytes; limits ${this.limits.maxMessages} messages, ${this.limits.maxBytes} bytes)`,
      )
    }
    this.messages += 1
    this.bytes += size
    let released = false
    return () => {
      if (released) return
      released = true
      this.messages -= 1
      this.bytes -= size
    }
  }
}
