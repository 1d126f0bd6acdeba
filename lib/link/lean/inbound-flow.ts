import type { IncomingMessage } from '../../subscriptions/broker-subscription.js'
import { PROTOCOL_ERROR } from '../../wire/malformed-packet.js'
import type { ProtocolLevel, PublishPacket } from '../../wire/packets.js'
import type { IncomingAcks } from './incoming-acks.js'
import { Fifo } from '../fifo.js'
import type { MessageDone } from '../link.js'

/** Bytes of PUBLISHes held for a busy engine before the socket is paused (backpressure instead of unbounded memory). */
const READ_AHEAD = 1 << 20
/** What one held packet costs beyond its topic and payload: its objects on the heap (the packet, the payload's view, the topic). */
const OVERHEAD = 256
/** MQTT 5 reason code of the client's DISCONNECT for a topic alias it did not allow. */
const TOPIC_ALIAS_INVALID = 0x94

/** What the inbound flow asks of its link. */
export interface InboundHost {
  write(bytes: Uint8Array): void
  level(): ProtocolLevel
  /** The engine's `message` event: the next message waits for `done`. */
  message(message: IncomingMessage, done: MessageDone): void
  /** The broker broke the protocol: the link ends the connection with `code` (MQTT 5 DISCONNECT). */
  protocolError(message: string, code: number): void
  /** Stop (true) or go on (false) reading the socket. */
  pause(paused: boolean): void
  /** The work after a `done` threw (the engine's code, delivering the next message): the link ends the attempt. */
  crashed(error: unknown): void
  /** The engine's turn of the event loop is over: the link reads on from what it left unread (see `reading`). */
  resume(): void
}

/**
 * The broker's PUBLISHes on the lean link: checked (a topic, no topic alias), delivered to the engine one at a
 * time, in order, each acknowledged when the engine calls `done`. Meanwhile the link reads on, so
 * acknowledgements and pings are never stuck behind a message; PUBLISHes wait in memory, and past READ_AHEAD
 * bytes of them the socket is paused (QoS 0 and MQTT 3.1.1 have no other flow control). While the engine takes
 * a turn of the event loop (`done(turn)`), the link reads nothing (`reading` is false): for so short a wait the
 * bytes are cheaper left in the reader than decoded into held packets, and one turn's reads bound them.
 *
 * @example
 * ```ts
 * const inbound = new InboundFlow(acks, { write, level, message, protocolError, pause, crashed })
 * inbound.restart(attempt.epoch) // each new connection
 * inbound.publish(packet)
 * ```
 */
export class InboundFlow {
  /**
   * The epoch of the connection the PUBLISHes come on (`Connection.epoch`, 0 between connections): a `done`
   * from an earlier one writes nothing.
   */
  #connection = 0
  /** The engine is handling a message: further PUBLISHes wait in `#held` until it calls back. */
  #busy = false
  #paused = false
  /** The engine is taking a turn of the event loop before the next message: nothing is read meanwhile. */
  #yielding = false
  /** PUBLISHes read while the engine is busy, in order, with the work that waits behind them; and their bytes. */
  readonly #held = new Fifo<PublishPacket | AfterHeld>()
  #heldBytes = 0

  readonly #acks: IncomingAcks
  readonly #host: InboundHost

  constructor(acks: IncomingAcks, host: InboundHost) {
    this.#acks = acks
    this.#host = host
  }

  /** Whether the link may read packets now; false while the engine takes its turn of the event loop. */
  get reading(): boolean {
    return !this.#yielding
  }

  /** A new connection, under the connection's `epoch`: nothing is held or paused. */
  restart(epoch: number): void {
    this.stop()
    this.#connection = epoch
    this.#paused = false
  }

  /** The connection is over: what is held is dropped (the broker resends what it did not get acknowledged). */
  stop(): void {
    const dropped = this.#held.clear()
    this.#connection = 0
    this.#busy = false
    this.#yielding = false
    this.#heldBytes = 0
    for (const entry of dropped) if (typeof entry === 'function') entry(true)
  }

  /**
   * Runs `task` once the PUBLISHes read before it are delivered: a SUBACK or UNSUBACK keeps its place among
   * them, since the engine takes the messages before it as sent before the subscription changed (a retained
   * re-ask tells the broker's resends from live messages by that order). `lost`: the connection ended first.
   */
  after(task: AfterHeld): void {
    if (!this.#busy && this.#held.size === 0) return task(false)
    this.#held.push(task)
  }

  publish(packet: PublishPacket): void {
    // The CONNECT allowed no topic aliases (topic alias maximum 0).
    if (packet.properties?.topicAlias !== undefined) return this.#host.protocolError('a PUBLISH with a topic alias, which the client did not allow', TOPIC_ALIAS_INVALID)
    if (packet.topic === '') return this.#host.protocolError('a PUBLISH without a topic', PROTOCOL_ERROR)
    // A broker past the Receive Maximum the CONNECT announced is not refused (0x93): Mosquitto 2.0.11 sends past
    // it once the first PUBACK is in, and closing would loop. What it sends waits here, bounded by READ_AHEAD.
    if (!this.#busy && this.#held.size === 0) return this.#deliver(packet)
    this.#held.push(packet)
    this.#heldBytes += cost(packet)
    this.#backpressure()
  }

  /** Hands one message to the engine; the next one waits for its `done`. */
  #deliver(packet: PublishPacket): void {
    // Delivered already: the broker resent it before it saw the PUBREC, which goes again, in its turn (acks keep the PUBLISHes' order).
    if (this.#acks.delivered(packet)) return this.#host.write(this.#acks.handled(packet, this.#host.level()) as Uint8Array)
    this.#busy = true
    let synchronous = true
    const connection = this.#connection
    let called = false
    this.#host.message(packet as IncomingMessage, (turn) => {
      if (called) return
      called = true
      if (connection !== this.#connection) return // the connection is gone; the broker resends what it did not get acknowledged
      try {
        const ack = this.#acks.handled(packet, this.#host.level())
        if (ack) this.#host.write(ack)
        if (turn) {
          this.#yielding = true
          turn(() => this.#resume(connection))
          return
        }
        this.#busy = false
        if (!synchronous) this.#deliverHeld()
      } catch (error) {
        this.#host.crashed(error)
      }
    })
    synchronous = false
  }

  /** The engine's turn is over: what was held goes first, then the link reads what it left unread. */
  #resume(connection: number): void {
    if (connection !== this.#connection || !this.#yielding) return
    try {
      this.#yielding = false
      this.#busy = false
      this.#deliverHeld()
      if (connection === this.#connection && !this.#yielding) this.#host.resume()
    } catch (error) {
      this.#host.crashed(error)
    }
  }

  /** The engine is done with a message: the ones held behind it go, until one keeps it busy. */
  #deliverHeld(): void {
    const connection = this.#connection
    while (!this.#busy && connection === this.#connection) {
      const next = this.#held.shift()
      if (!next) break
      if (typeof next === 'function') {
        next(false)
        continue
      }
      this.#heldBytes -= cost(next)
      this.#deliver(next)
    }
    if (connection === this.#connection) this.#backpressure()
  }

  #backpressure(): void {
    const pause = this.#heldBytes > READ_AHEAD
    if (pause === this.#paused) return
    this.#paused = pause
    this.#host.pause(pause)
  }
}

/** Work that waits for the PUBLISHes read before it; `lost` when the connection ended first. */
export type AfterHeld = (lost: boolean) => void

function cost(packet: PublishPacket): number {
  return packet.payload.byteLength + packet.topic.length + OVERHEAD
}
