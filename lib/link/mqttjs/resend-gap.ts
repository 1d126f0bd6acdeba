/**
 * The time between MQTT.js's CONNACK and its `connect` event, while it sends again, one by one, what its store
 * kept of a resumed session. The connection is up (the engine hears of it at the CONNACK), but new packets must
 * go behind those: meanwhile the link is not writable (publishes wait in the engine, as behind a full socket),
 * and SUBSCRIBE and UNSUBSCRIBE wait here, in order. The end of the gap sends them and makes the link writable.
 *
 * @example
 * ```ts
 * const gap = new ResendGap((error) => link.crashed(error))
 * gap.begin()                                   // CONNACK accepted
 * gap.after((lost) => lost ? answerLost() : send())
 * if (gap.end()) events.drained()               // MQTT.js's `connect`
 * ```
 */
export class ResendGap {
  #open = false
  readonly #waiting: Array<(lost: boolean) => void> = []
  readonly #crashed: (error: unknown) => void

  /**
   * `crashed`: where a request that throws is reported. The gap ends in MQTT.js's `connect` and `close` events,
   * and nothing may throw out of those; the requests behind it still go (or are answered).
   */
  constructor(crashed: (error: unknown) => void) {
    this.#crashed = crashed
  }

  /** MQTT.js is resending: nothing new may go out yet. */
  get open(): boolean {
    return this.#open
  }

  begin(): void {
    this.#open = true
  }

  /** Runs `send(false)` now, or once the gap ends, in order; `send(true)` if the connection ends first. */
  after(send: (lost: boolean) => void): void {
    if (this.#open) this.#waiting.push(send)
    else send(false)
  }

  /** The resend is over: what waited goes, in order. Whether a gap was open. */
  end(): boolean {
    if (!this.#open) return false
    this.#open = false
    this.#run(false)
    return true
  }

  /** The connection is over: what waited is answered as lost. */
  lose(): void {
    this.#open = false
    this.#run(true)
  }

  #run(lost: boolean): void {
    for (const send of this.#waiting.splice(0)) {
      try {
        send(lost)
      } catch (error) {
        this.#crashed(error)
      }
    }
  }
}
