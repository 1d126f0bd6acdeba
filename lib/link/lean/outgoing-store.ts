import type { LinkAckError } from '../link.js'
import type { QoS } from '../../message.js'

/** One QoS 1/2 publish from `publish()` until its acknowledgement (or withdrawal). */
export class OutgoingPublish {
  /** `released`: QoS 2 after PUBREC, waiting for PUBCOMP (a PUBREL is what a reconnect resends). */
  released = false
  /** The connection it was last counted in flight on (0: none yet); a later one resends it. */
  connection = 0
  /** Written at least once: a resend carries DUP. */
  written = false

  constructor(
    readonly packetId: number,
    readonly qos: QoS,
    /** The PUBLISH as first encoded (DUP clear). */
    readonly bytes: Uint8Array,
    readonly done: (error?: LinkAckError) => void,
  ) {}
}

/**
 * The client's side of the session: unacknowledged QoS 1/2 publishes in the order they were made, and the
 * broker's receive maximum (MQTT 5 flow control: no more unacknowledged publishes in flight than the CONNACK
 * allows; the rest wait here, in order). It outlives connections: what is in it is resent on the next one.
 *
 * @example
 * ```ts
 * const store = new OutgoingStore()
 * store.add(new OutgoingPublish(7, 1, bytes, done))
 * for (const publish of store.sendable()) write(publish)
 * ```
 */
export class OutgoingStore {
  readonly #byId = new Map<number, OutgoingPublish>()
  /** Not yet written on this connection, oldest first, from `head` on (withdrawn ones are skipped). */
  #waiting: OutgoingPublish[] = []
  #head = 0
  /** Written on this connection and not yet acknowledged: counts against the receive maximum. */
  #inFlight = 0
  #quota = 65_535
  #connection = 0

  get size(): number {
    return this.#byId.size
  }

  has(packetId: number): boolean {
    return this.#byId.has(packetId)
  }

  get(packetId: number): OutgoingPublish | undefined {
    return this.#byId.get(packetId)
  }

  /** A new publish, to be written after those waiting before it. */
  add(publish: OutgoingPublish): void {
    this.#byId.set(publish.packetId, publish)
    this.#waiting.push(publish)
  }

  /** Takes a publish out (acknowledged, refused or withdrawn). */
  remove(packetId: number): OutgoingPublish | undefined {
    const publish = this.#byId.get(packetId)
    if (!publish) return undefined
    this.#byId.delete(packetId)
    if (publish.connection === this.#connection && this.#connection !== 0) this.#inFlight -= 1
    return publish
  }

  /**
   * A new connection, with the broker's receive maximum: everything stored is to be written once more, in
   * order (the broker resumes the session, or has forgotten it; either way at least once holds).
   */
  restart(connection: number, receiveMaximum: number): void {
    this.#connection = connection
    this.#quota = receiveMaximum
    this.#inFlight = 0
    this.#waiting = [...this.#byId.values()]
    this.#head = 0
  }

  /**
   * The publishes that may be written now, oldest first, each counted as in flight on this connection:
   * those not yet written on it (a `released` one as its PUBREL), as far as the receive maximum allows.
   */
  *sendable(): Generator<OutgoingPublish> {
    while (this.#head < this.#waiting.length && this.#inFlight < this.#quota) {
      const publish = this.#waiting[this.#head] as OutgoingPublish
      this.#head += 1
      if (this.#byId.get(publish.packetId) !== publish) continue // withdrawn or acknowledged meanwhile
      publish.connection = this.#connection
      this.#inFlight += 1
      yield publish
    }
    if (this.#head === this.#waiting.length) {
      this.#waiting = []
      this.#head = 0
    }
  }

  /** Everything, taken out (the final close gives it up). */
  clear(): OutgoingPublish[] {
    const all = [...this.#byId.values()]
    this.#byId.clear()
    this.#waiting = []
    this.#head = 0
    this.#inFlight = 0
    return all
  }
}
