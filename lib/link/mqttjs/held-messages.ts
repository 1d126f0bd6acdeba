import type { IncomingMessage } from '../../subscriptions/broker-subscription.js'
import type { Fifo } from '../fifo.js'
import type { MessageDone } from '../link.js'

/** Bytes of messages held for a busy engine before MQTT.js is made to stop reading (as the lean link's READ_AHEAD). */
const READ_AHEAD = 1 << 20
/**
 * Messages held before MQTT.js is made to stop reading, whatever their size: the lean link announces this as its
 * Receive Maximum, which MQTT.js cannot (mqttjs-options.ts), so the bound is kept here.
 */
const READ_AHEAD_MESSAGES = 256
/** What one held message costs beyond its topic and payload: its objects on the heap. */
const OVERHEAD = 256

/**
 * Handed to MQTT.js's handleMessage callback, it makes MQTT.js go on to the next packet without writing the
 * message's acknowledgement (its publish and pubrel handlers skip the PUBACK, or the PUBCOMP and the release of
 * the QoS 2 state, on an error): the link writes it when the engine is done.
 */
export const ACK_LEFT_TO_LINK = new Error('acknowledged by the link')

/** What the held messages ask of their link. */
export interface HeldMessagesHost<P> {
  /** The engine's `message` event: the next message waits for `done`. */
  message(message: IncomingMessage, done: MessageDone): void
  /** Writes the acknowledgement of `packet` (none for QoS 0): the engine is done with it, on the connection it came on. */
  acknowledge(packet: P): void
  /** MQTT.js reads again after being held: the broker's packets waited unread, so its silence is no sign of death. */
  resumed(): void
  /** The work after a `done` threw (writing the acknowledgement, the engine delivering the next message): the link ends the connection. */
  crashed(error: unknown): void
}

interface Held<P> {
  readonly message: IncomingMessage
  readonly packet: P
}

/**
 * The broker's PUBLISHes on the MQTT.js link, delivered to the engine one at a time, in order, each acknowledged
 * when the engine calls `done`. MQTT.js handles packets strictly one after the other, and reads none while its
 * handleMessage callback is pending: holding it until `done` would leave PINGRESPs and PUBACKs unread behind a
 * manually acknowledged message, and the keepalive would blame the broker. So MQTT.js is called back at once,
 * told to leave the acknowledgement to the link ({@link ACK_LEFT_TO_LINK}), and the messages wait here. Past
 * READ_AHEAD bytes or READ_AHEAD_MESSAGES of them, MQTT.js's callback is held after all: its parser stops taking chunks and the socket
 * is paused through the stream's own backpressure; `paused` is then true, and the silence is the link's own.
 *
 * @example
 * ```ts
 * const held = new HeldMessages({ message: events.message, acknowledge: (packet) => writeAck(client, packet), resumed, crashed }, kit.Fifo)
 * client.handleMessage = (packet, callback) => held.receive(toMessage(packet), packet, callback)
 * ```
 */
export class HeldMessages<P> {
  /**
   * The epoch of the connection the messages come on (`Connection.epoch`, 0 between connections): a `done` from
   * an earlier one writes nothing (the broker resends what it did not get acknowledged).
   */
  #connection = 0
  /** The engine is handling a message: further ones wait in `#held` until it calls back. */
  #busy = false
  /** Messages read while the engine is busy, in order, with the work that waits behind them. */
  readonly #held: Fifo<Held<P> | AfterHeld>
  #heldMessages = 0
  #heldBytes = 0
  /** MQTT.js's callback, held while too much waits: MQTT.js reads no further packet until it is called. */
  #stalled: (() => void) | undefined

  readonly #host: HeldMessagesHost<P>

  /** `fifo`: the lean link's queue class, handed over (see LinkKit) rather than imported. */
  constructor(host: HeldMessagesHost<P>, fifo: typeof Fifo) {
    this.#host = host
    this.#held = new fifo()
  }

  /** Whether the link has stopped MQTT.js reading: the broker's packets wait unread, so its silence proves nothing. */
  get paused(): boolean {
    return this.#stalled !== undefined
  }

  /**
   * The connection is over, and the next one's `epoch` begins (0: none yet): what is held is dropped, a late
   * `done` writes nothing.
   */
  restart(epoch: number): void {
    const dropped = this.#held.clear()
    this.#connection = epoch
    this.#busy = false
    this.#heldBytes = 0
    this.#heldMessages = 0
    for (const entry of dropped) if (typeof entry === 'function') entry(true)
    // MQTT.js drops the packets queued by a superseded connection itself: its callback is not needed any more.
    this.#stalled = undefined
  }

  /**
   * Runs `task` once the messages read before it are delivered: a SUBACK or UNSUBACK keeps its place among
   * them, since the engine takes the messages before it as sent before the subscription changed (a retained
   * re-ask tells the broker's resends from live messages by that order). `lost`: the connection ended first.
   */
  after(task: AfterHeld): void {
    if (!this.#busy && this.#held.size === 0) return task(false)
    this.#held.push(task)
  }

  /**
   * MQTT.js's handleMessage. A message the engine is done with before this returns is acknowledged by MQTT.js
   * itself (`callback()`), as it would be without this class; any other is acknowledged by the host later.
   */
  receive(message: IncomingMessage, packet: P, callback: (error?: Error) => void): void {
    if (this.#busy || this.#held.size > 0) {
      this.#held.push({ message, packet })
      this.#heldBytes += cost(message)
      this.#heldMessages += 1
      if (this.#full()) this.#stalled = () => callback(ACK_LEFT_TO_LINK)
      else callback(ACK_LEFT_TO_LINK)
      return
    }
    let doneAtOnce = false
    try {
      this.#deliver({ message, packet }, () => (doneAtOnce = true))
    } catch (error) {
      this.#host.crashed(error)
    }
    callback(doneAtOnce ? undefined : ACK_LEFT_TO_LINK)
  }

  /** Hands one message to the engine; `atOnce` is called instead of acknowledging when `done` comes before `message` returns. */
  #deliver(held: Held<P>, atOnce?: () => void): void {
    this.#busy = true
    let synchronous = true
    let called = false
    const connection = this.#connection
    const finish = (): void => {
      if (called || connection !== this.#connection) return
      called = true
      this.#busy = false
      if (synchronous && atOnce) return atOnce()
      try {
        this.#host.acknowledge(held.packet)
        if (!synchronous) this.#deliverHeld()
      } catch (error) {
        this.#host.crashed(error)
      }
    }
    // With a turn of the event loop asked for, the message is done (acknowledged, the next delivered) after it.
    this.#host.message(held.message, (turn) => (turn ? turn(finish) : finish()))
    synchronous = false
  }

  /** The engine is done with a message: the ones held behind it go, until one keeps it busy. */
  #deliverHeld(): void {
    const connection = this.#connection
    while (!this.#busy && connection === this.#connection) {
      const held = this.#held.shift()
      if (!held) break
      if (typeof held === 'function') {
        held(false)
        continue
      }
      this.#heldBytes -= cost(held.message)
      this.#heldMessages -= 1
      this.#deliver(held)
    }
    if (connection !== this.#connection || this.#full()) return
    const stalled = this.#stalled
    if (!stalled) return
    this.#stalled = undefined
    stalled()
    this.#host.resumed()
  }

  #full(): boolean {
    return this.#heldBytes > READ_AHEAD || this.#heldMessages > READ_AHEAD_MESSAGES
  }
}

/** Work that waits for the messages read before it; `lost` when the connection ended first. */
export type AfterHeld = (lost: boolean) => void

function cost(message: IncomingMessage): number {
  return message.payload.byteLength + message.topic.length + OVERHEAD
}
