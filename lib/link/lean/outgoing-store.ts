import type { LinkAckError, LinkPublishOptions } from '../link.js'
import type { QoS } from '../../message.js'

/** One QoS 1/2 publish from `publish()` until its flow ends (acknowledged, refused, or its session lost). */
export class OutgoingPublish {
  /** `released`: QoS 2 after PUBREC, waiting for PUBCOMP (a PUBREL is what a reconnect resends). */
  released = false
  /** The epoch of the connection it was last counted in flight on (0: none yet); a later one resends it. */
  connection = 0
  /** Written at least once in this session: a resend carries DUP. */
  written = false
  /**
   * Given up by the publisher after it was written: never answered, and not written again on this connection,
   * but its flow goes on (a resumed session resends it, MQTT-4.4.0-1) and its identifier stays reserved until
   * that flow ends or its session does (the broker may hold it).
   */
  withdrawn = false

  /** The PUBLISH as first encoded (DUP clear), at its first write: the connection's protocol level is known then. */
  bytes: Uint8Array | undefined

  constructor(
    readonly packetId: number,
    readonly topic: string,
    readonly payload: Uint8Array | string,
    readonly options: LinkPublishOptions,
    readonly done: (error?: LinkAckError) => void,
  ) {}

  get qos(): QoS {
    return this.options.qos
  }
}

/**
 * The client's side of the session: unacknowledged QoS 1/2 publishes in the order they were made, and the
 * broker's receive maximum (MQTT 5 flow control: no more unacknowledged publishes in flight than the CONNACK
 * allows; the rest wait here, in order). It outlives connections: while the broker keeps the session, what is
 * in it is resent on the next one. A packet identifier is in use while its publish is in here.
 *
 * @example
 * ```ts
 * const store = new OutgoingStore()
 * store.add(new OutgoingPublish(7, 'a/b', payload, { qos: 1, retain: false }, done))
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
  /** The connection's epoch (`Connection.epoch`, by way of the link's attempt); 0 before the first. */
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

  /** Takes a publish out: its flow has ended (acknowledged or refused), and its identifier is free. */
  remove(packetId: number): OutgoingPublish | undefined {
    const publish = this.#byId.get(packetId)
    if (!publish) return undefined
    this.#byId.delete(packetId)
    if (publish.connection === this.#connection && this.#connection !== 0) this.#inFlight -= 1
    return publish
  }

  /**
   * Given up by the publisher (timeout, abort). Never written: dropped, its identifier free. Written: kept,
   * because the broker may hold it under that identifier (MQTT 5 §2.2.1); a late PUBACK or PUBCOMP, the flow
   * completed after a resumed session's resend, or a lost session takes it out.
   */
  withdraw(packetId: number): void {
    const publish = this.#byId.get(packetId)
    if (!publish) return
    if (publish.written) publish.withdrawn = true
    else this.remove(packetId)
  }

  /**
   * A new connection (its epoch), with the broker's receive maximum. The session kept (`sessionPresent`): everything
   * stored is written once more, in order (a PUBLISH with DUP, a released QoS 2 as its PUBREL), withdrawn ones
   * too (MQTT-4.4.0-1: their flow ends and frees the identifier; nobody waits for the answer). The session
   * lost: the broker holds none of it, so a written QoS 1 goes again as a new message (DUP clear: at least
   * once), a written QoS 2 is taken out and returned, its outcome unknown (resent it could be delivered twice,
   * or confirmed though the broker discarded it), and withdrawn ones are freed.
   */
  restart(connection: number, receiveMaximum: number, sessionPresent: boolean): OutgoingPublish[] {
    this.#connection = connection
    this.#quota = receiveMaximum
    this.#inFlight = 0
    this.#head = 0
    const lost: OutgoingPublish[] = []
    const waiting: OutgoingPublish[] = []
    for (const publish of this.#byId.values()) {
      if (!sessionPresent && publish.written) {
        if (publish.qos === 1 && !publish.withdrawn) {
          publish.written = false
          waiting.push(publish)
        } else {
          this.#byId.delete(publish.packetId)
          if (!publish.withdrawn) lost.push(publish)
        }
      } else {
        waiting.push(publish)
      }
    }
    this.#waiting = waiting
    return lost
  }

  /**
   * The publishes that may be written now, oldest first, each counted as in flight on this connection:
   * those not yet written on it (a `released` one as its PUBREL), as far as the receive maximum allows.
   */
  *sendable(): Generator<OutgoingPublish> {
    while (this.#head < this.#waiting.length && this.#inFlight < this.#quota) {
      const publish = this.#waiting[this.#head] as OutgoingPublish
      this.#head += 1
      if (this.#byId.get(publish.packetId) !== publish) continue // acknowledged or dropped meanwhile
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
