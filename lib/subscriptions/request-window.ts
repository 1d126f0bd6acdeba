import type { Link, LinkSubscribeOptions, LinkSubscription, Suback } from '../link/link.js'
import { varintLength } from '../wire/byte-writer.js'
import { utf8Length } from '../wire/utf8.js'

/**
 * SUBSCRIBE and UNSUBSCRIBE packets in flight at most. Packet identifiers are 16 bits and shared with QoS 1/2
 * publishes: 100,000 filters sent at once wrap onto identifiers still in flight (a SUBACK then answers the wrong
 * request, or a PUBLISH). A thousand keeps the broker busy (a round trip of SUBACKs is well under a millisecond
 * of its work each) and leaves 64,535 identifiers to publishes.
 */
export const REQUEST_WINDOW = 1_000
/** Filters in one SUBSCRIBE or UNSUBSCRIBE packet, where filters may share a packet. */
export const FILTERS_PER_PACKET = 100
/** The filters of one packet, counted as their worst-case encoding (3 bytes per UTF-16 unit, length, options). */
export const BYTES_PER_PACKET = 16_384

interface SubscribeRequest {
  readonly type: 'subscribe'
  readonly filter: string
  /** The subscription identifier the SUBSCRIBE carries (`prepare`'s `options.id`): the same one may share a packet. */
  readonly id: number | undefined
  /** Called as the request is sent: the options then (a QoS upgrade made while it waited is included). */
  readonly prepare: () => LinkSubscribeOptions
  readonly done: (result: Suback) => void
  /** Sent in a packet of its own (a retained re-ask, whose two SUBSCRIBEs must be answered apart). */
  readonly alone: boolean
}

interface UnsubscribeRequest {
  readonly type: 'unsubscribe'
  readonly filter: string
  readonly done: (ok: boolean) => void
}

export type WindowRequest = SubscribeRequest | UnsubscribeRequest

/** MQTT 5's reason code for a packet over the receiver's maximum packet size. */
const PACKET_TOO_LARGE = 0x95

/** The exact bytes of an MQTT 5 SUBSCRIBE of one filter (only an MQTT 5 broker sets a maximum packet size). */
function subscribeSize(filter: string, id: number | undefined): number {
  const properties = id === undefined ? 0 : 1 + varintLength(id)
  const remaining = 2 + varintLength(properties) + properties + 2 + utf8Length(filter) + 1
  return 1 + varintLength(remaining) + remaining
}

/** Worst-case bytes of a filter in a SUBSCRIBE: UTF-8 (at most 3 bytes per UTF-16 unit), its length, its options. */
const encodedSize = (filter: string): number => filter.length * 3 + 3

/**
 * The SUBSCRIBEs and UNSUBSCRIBEs of one connection, sent in the order asked, with at most
 * {@link REQUEST_WINDOW} packets awaiting their acknowledgement. Where the link can put several filters in one
 * packet, consecutive requests of one kind made in one task share a packet: UNSUBSCRIBEs, and SUBSCRIBEs with
 * the same subscription identifier (none, or one shared by filters without wildcards), since a packet carries
 * one identifier for all its filters and messages are routed by it.
 */
export class RequestWindow {
  #queue: WindowRequest[] = []
  #head = 0
  #inFlight = 0
  #pumping = false
  #scheduled = false
  #closed = false

  readonly #link: Link
  readonly #window: number

  constructor(
    link: Link,
    /** Largest packet the broker takes (its MQTT 5 maximum packet size), bytes. */
    maxPacketSize: number | undefined,
    window = REQUEST_WINDOW,
  ) {
    this.#link = link
    this.#window = window
    this.#budget = Math.max(1, Math.min(BYTES_PER_PACKET, (maxPacketSize ?? Infinity) - 16))
    this.#maxPacketSize = maxPacketSize ?? Infinity
    this.#refill = Math.max(1, Math.floor(window / 4))
  }

  readonly #budget: number
  readonly #maxPacketSize: number
  readonly #refill: number

  /** Packets sent and not yet acknowledged. */
  get pending(): number {
    return this.#inFlight
  }

  /** Requests not sent yet. */
  get queued(): number {
    return this.#queue.length - this.#head
  }

  subscribe(filter: string, id: number | undefined, prepare: () => LinkSubscribeOptions, done: (result: Suback) => void, alone = false): void {
    if (this.#closed) return done({ lost: true })
    this.#queue.push({ type: 'subscribe', filter, id, prepare, done, alone })
    this.#request(!alone && !!this.#link.subscribeMany)
  }

  unsubscribe(filter: string, done: (ok: boolean) => void): void {
    if (this.#closed) return done(false)
    this.#queue.push({ type: 'unsubscribe', filter, done })
    // At once: the last observer leaving is answered by an UNSUBSCRIBE on the wire before unsubscribe()
    // returns. UNSUBSCRIBEs share a packet when they have to wait for room in the window.
    this.#pump()
  }

  /**
   * A SUBSCRIBE that may share its packet goes out at the end of the current task, with the others made in it
   * (an app observing 100,000 filters in a loop gets packets of 100), or at the next {@link flush}; one that goes
   * alone goes now.
   */
  #request(shared: boolean): void {
    if (!shared) return this.#pump()
    if (this.#scheduled) return
    this.#scheduled = true
    queueMicrotask(() => this.flush())
  }

  /** Sends the SUBSCRIBEs held for the end of the task now (a publish must not overtake them on the wire). */
  flush(): void {
    if (!this.#scheduled) return
    this.#scheduled = false
    this.#pump()
  }

  /** The connection is gone: nothing more is sent. Returns the requests that never were, for the caller to settle. */
  close(): WindowRequest[] {
    this.#closed = true
    const unsent = this.#queue.slice(this.#head)
    this.#queue = []
    this.#head = 0
    return unsent
  }

  #pump(): void {
    // An acknowledgement answered synchronously inside a send (or a request made by a callback) comes back here.
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (!this.#closed && this.#inFlight < this.#window && this.#head < this.#queue.length) this.#sendNext()
      // Drop what was sent: all of it once everything is (an idle window holds no request), and on the way now
      // and then, rather than shifting a long array once per request.
      if (this.#head > 0 && (this.#head === this.#queue.length || (this.#head > 1024 && this.#head * 2 > this.#queue.length))) {
        this.#queue = this.#queue.slice(this.#head)
        this.#head = 0
      }
    } finally {
      this.#pumping = false
    }
  }

  #sendNext(): void {
    const first = this.#queue[this.#head] as WindowRequest
    this.#inFlight += 1
    if (first.type === 'unsubscribe') {
      const batch = this.#take((r): r is UnsubscribeRequest => r.type === 'unsubscribe', !this.#link.unsubscribeMany)
      if (batch.length === 1 || !this.#link.unsubscribeMany) return this.#link.unsubscribe(first.filter, (ok) => this.#answered(ok, () => first.done(ok)))
      this.#link.unsubscribeMany(
        batch.map((r) => r.filter),
        (ok) => this.#answered(ok, () => batch.forEach((r) => r.done(ok))),
      )
      return
    }
    this.#head += 1
    const options = first.prepare()
    if (subscribeSize(first.filter, options.id) > this.#maxPacketSize) {
      // Never sent (MQTT 5 §3.1.2.11.4): the broker would close the connection, and the reconnect send it again.
      this.#inFlight -= 1
      queueMicrotask(() => first.done({ refused: PACKET_TOO_LARGE }))
      return
    }
    const shareable = !!this.#link.subscribeMany && !first.alone
    if (!shareable) return this.#link.subscribe(first.filter, options, (result) => this.#answered(!('lost' in result), () => first.done(result)))
    const batch: SubscribeRequest[] = [first]
    const entries: LinkSubscription[] = [{ filter: first.filter, options }]
    let bytes = encodedSize(first.filter)
    while (batch.length < FILTERS_PER_PACKET && this.#head < this.#queue.length) {
      const next = this.#queue[this.#head] as WindowRequest
      if (next.type !== 'subscribe' || next.alone || next.id !== first.id || bytes + encodedSize(next.filter) > this.#budget) break
      const nextOptions = next.prepare()
      this.#head += 1
      batch.push(next)
      entries.push({ filter: next.filter, options: nextOptions })
      bytes += encodedSize(next.filter)
    }
    if (batch.length === 1) return this.#link.subscribe(first.filter, options, (result) => this.#answered(!('lost' in result), () => first.done(result)))
    ;(this.#link.subscribeMany as NonNullable<Link['subscribeMany']>)(entries, (results) => {
      const lost = results.some((r) => 'lost' in r)
      this.#answered(!lost, () => batch.forEach((r, i) => r.done(results[i] ?? { lost: true })))
    })
  }

  /** Takes the run of requests at the head that `fits` (one if `single`), within the packet limits. */
  #take<R extends WindowRequest>(fits: (request: WindowRequest) => request is R, single: boolean): R[] {
    const batch: R[] = []
    let bytes = 0
    while (this.#head < this.#queue.length && batch.length < (single ? 1 : FILTERS_PER_PACKET)) {
      const next = this.#queue[this.#head] as WindowRequest
      if (!fits(next) || (batch.length > 0 && bytes + encodedSize(next.filter) > this.#budget)) break
      batch.push(next)
      bytes += encodedSize(next.filter)
      this.#head += 1
    }
    return batch
  }

  /**
   * A packet was answered: its requests learn how, and the next ones go out. One that failed because the
   * connection closed frees no slot: the window is closed with the connection, and sending on from inside the
   * link's close would only queue packets in MQTT.js for the next connection.
   */
  #answered(delivered: boolean, settle: () => void): void {
    if (delivered && !this.#closed) this.#inFlight -= 1
    settle()
    // Refilled in runs, not one packet per acknowledgement: packets sent in one go share a socket write.
    if (delivered && this.#window - this.#inFlight >= Math.min(this.#refill, this.queued)) this.#pump()
  }
}
