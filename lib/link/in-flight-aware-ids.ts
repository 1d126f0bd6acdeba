/**
 * Packet identifiers that never land on one still in flight. MQTT.js's default counts up and wraps at 65,535
 * whatever is pending: 100,000 SUBSCRIBEs, or a QoS 1 publish left unacknowledged while 65,535 others went by,
 * get the identifier of a request still waiting, and its acknowledgement then answers the wrong one (MQTT.js
 * reports "suback does not answer the publish pending" and the connection is torn down). This one counts up too
 * (a map lookup per identifier, no allocator state to keep in step with MQTT.js's stores) and skips identifiers
 * in MQTT.js's in-flight table; with all 65,535 in use it answers null, and MQTT.js holds the packet until an
 * acknowledgement frees one. `inUse` answers for the whole flow (MQTT 5 §2.2.1): a publish given up after it
 * was written keeps its identifier until its acknowledgement or the end of its session, as the broker may hold
 * it.
 */
export class InFlightAwareIds {
  /** Not 1: a new client instance resuming a session should not start on the identifiers its predecessor used. */
  #next = Math.max(1, Math.floor(Math.random() * 65_535))
  #last: number | null = null

  readonly #inUse: (id: number) => boolean

  constructor(inUse: (id: number) => boolean) {
    this.#inUse = inUse
  }

  allocate(): number | null {
    for (let tries = 0; tries < 65_535; tries++) {
      const id = this.#next
      this.#next = id >= 65_535 ? 1 : id + 1
      if (!this.#inUse(id)) return (this.#last = id)
    }
    return null
  }

  getLastAllocated(): number | null {
    return this.#last
  }

  /** Stored publishes resent on a new connection keep their identifiers; they are in the in-flight table by then. */
  register(): boolean {
    return true
  }

  deallocate(): void {}

  clear(): void {}
}
