/** The part of a Node Writable that holding writes uses. */
interface Corkable {
  cork(): void
  uncork(): void
}

/**
 * Holds a socket's writes until the event loop's current turn is over, so that the acknowledgements of the
 * messages handled in one turn leave in one write. With Nagle's algorithm off (for latency), MQTT.js would
 * otherwise send each PUBACK as its own TCP segment, since it hands over one packet per tick, and a QoS 1 drain
 * would pay a system call and a segment per message. Held for a turn, not longer:
 * a write waits microseconds, never for a timer.
 *
 * @example
 * ```ts
 * const batch = new WriteBatch(setImmediate)
 * client.handleMessage = (packet, done) => { batch.hold(client.stream); done() }
 * ```
 */
export class WriteBatch {
  #held = false

  readonly #afterThisTurn: (callback: () => void) => unknown

  constructor(afterThisTurn: (callback: () => void) => unknown) {
    this.#afterThisTurn = afterThisTurn
  }

  hold(stream: Corkable | undefined): void {
    if (this.#held || typeof stream?.cork !== 'function') return
    this.#held = true
    stream.cork()
    this.#afterThisTurn(() => {
      this.#held = false
      stream.uncork()
    })
  }
}
