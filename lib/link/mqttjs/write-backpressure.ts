import { HIGH_WATER_MARK } from '../../transport/transport.js'

/** What backpressure reads of MQTT.js's stream: a Node Writable (or readable-stream's, in browsers). */
export interface DrainingStream {
  readonly writableLength?: number
  once(event: 'drain', listener: () => void): unknown
}

/**
 * The MQTT.js link's `writable`, measured as the lean link's is: false while MQTT.js's stream holds the
 * high-water mark unsent (its `writableLength`, a corked turn's writes included), until that stream's next
 * 'drain' (Node's streams say it once their buffer is empty, after a write past their own mark).
 *
 * @example
 * ```ts
 * const backpressure = new WriteBackpressure(() => events.drained())
 * const writable = backpressure.writable(client.stream)
 * ```
 */
export class WriteBackpressure {
  /** The stream whose 'drain' is awaited. */
  #awaited: DrainingStream | undefined

  readonly #drained: () => void

  constructor(drained: () => void) {
    this.#drained = drained
  }

  writable(stream: DrainingStream | undefined): boolean {
    if (!stream || !((stream.writableLength ?? 0) >= HIGH_WATER_MARK)) return true
    if (this.#awaited !== stream) {
      this.#awaited = stream
      stream.once('drain', () => {
        if (this.#awaited !== stream) return // that connection is over
        this.#awaited = undefined
        this.#drained()
      })
    }
    return false
  }

  /** The stream closed: its 'drain' will not come, and is no news for the next one. */
  reset(): void {
    this.#awaited = undefined
  }
}
