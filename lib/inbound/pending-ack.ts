/** One observer's share of a message's acknowledgement. */
export interface AckHandle {
  ack(): void
  nack(reason?: unknown): void
}

/**
 * The acknowledgement of one received QoS 1/2 message while observers acknowledge by hand: MQTT.js's
 * acknowledgement (and its reading of further packets) waits until every observer holding the message
 * has called `ack()`.
 */
export class PendingAck {
  #holds = 0
  #released = false
  #release: (() => void) | undefined

  /** False once the connection the message came on is gone: its acknowledgement can no longer be sent. */
  readonly #current: () => boolean
  readonly #refuse: (reason: unknown) => void

  constructor(
    /** False once the connection the message came on is gone: its acknowledgement can no longer be sent. */
    current: () => boolean,
    refuse: (reason: unknown) => void,
  ) {
    this.#current = current
    this.#refuse = refuse
  }

  /** An observer takes the message; the returned handle acknowledges or refuses its part, once. */
  hold(): AckHandle | undefined {
    if (this.#released) return undefined
    this.#holds += 1
    let done = false
    return {
      ack: () => {
        if (done) return
        done = true
        this.#holds -= 1
        this.#maybeRelease()
      },
      nack: (reason?: unknown) => {
        if (done) return
        done = true
        if (this.#current()) this.#refuse(reason)
      },
    }
  }

  /** MQTT.js is ready to acknowledge: go ahead now, or when the last holder has acknowledged. */
  whenReleased(release: () => void): void {
    this.#release = release
    this.#maybeRelease()
  }

  #maybeRelease(): void {
    if (this.#holds > 0 || this.#released || !this.#release) return
    this.#released = true
    if (this.#current()) this.#release()
  }
}
