import type { MessageDone } from '../link/link.js'
import type { IncomingMessage } from '../subscriptions/broker-subscription.js'
import { PendingAck } from './pending-ack.js'
import type { SubscriptionRegistry } from '../subscriptions/subscription-registry.js'

/** Messages handled in a row before the clock is looked at. */
const BATCH = 64
/** Milliseconds of handling in a row after which the link waits for the event loop (timers, pings, I/O). */
const BUDGET_MS = 10

/** What dispatch reads of the rest of the engine. */
export interface DispatchContext {
  readonly registry: SubscriptionRegistry
  /** MQTT 5 subscription identifiers are in use on this connection. */
  readonly useIdentifiers: boolean
  readonly epoch: number
  /** A manually acknowledged message was refused: close the connection unacknowledged so it comes again. */
  redeliver(topic: string, reason: unknown): void
}

/**
 * Inbound dispatch: each message from the link to exactly the subscriptions it is for (by MQTT 5 subscription
 * identifier, else by topic), its acknowledgement held while observers acknowledge by hand, and the link's
 * reading paused now and then so that a busy consumer does not starve timers (keepalive pings) or I/O.
 */
export class Dispatcher {
  /** Observers with `ack: 'manual'`; while there are none, messages carry no acknowledgement state. */
  manualObservers = 0
  #handled = 0
  #batchStart = 0

  readonly #context: DispatchContext
  /** Runs a callback after pending I/O and timers (setImmediate in Node). */
  readonly #defer: (callback: () => void) => void
  readonly #now: () => number

  constructor(
    context: DispatchContext,
    /** Runs a callback after pending I/O and timers (setImmediate in Node). */
    defer: (callback: () => void) => void,
    now: () => number = () => performance.now(),
  ) {
    this.#context = context
    this.#defer = defer
    this.#now = now
  }

  /** The link's `message` event: deliver, then let the link go on (at once, after the acks, or after a turn). */
  message(message: IncomingMessage, done: MessageDone): void {
    let ack: PendingAck | undefined
    if (this.manualObservers > 0 && message.qos > 0) {
      const epoch = this.#context.epoch
      ack = new PendingAck(
        () => epoch === this.#context.epoch,
        (reason) => this.#context.redeliver(message.topic, reason),
      )
    }
    this.#deliver(message, ack)
    if (ack) ack.whenReleased(() => this.#pace(done))
    else this.#pace(done)
  }

  #deliver(message: IncomingMessage, ack: PendingAck | undefined): void {
    const { registry } = this.#context
    const ids = message.properties?.subscriptionIdentifier
    if (ids !== undefined && this.#context.useIdentifiers) {
      // MQTT 5: each copy names the subscription(s) it is for, so each observer gets its copy once.
      if (typeof ids === 'number') {
        const subscription = registry.byIdentifier(ids, message.topic)
        if (subscription) return subscription.deliver(message, ack)
      } else {
        let delivered = false
        for (const id of ids) {
          const subscription = registry.byIdentifier(id, message.topic)
          if (subscription) {
            subscription.deliver(message, ack)
            delivered = true
          }
        }
        if (delivered) return
      }
      // An identifier of an earlier instance (a resumed session's queued message) is routed by topic; any other
      // copy no subscription has is for a filter released before its UNSUBACK came, and for no one.
      if (!registry.stable) return
    }
    // MQTT 3.1.1 (or no identifiers): Mosquitto sends one copy per client however many of its filters
    // match, so the copy goes to every matching subscription.
    for (const subscription of registry.matching(message.topic)) subscription.deliver(message, ack)
  }

  /**
   * Lets the link go on: at once, unless this batch of handling has run past its budget; then the message is
   * done, but the next one waits for a turn of the event loop.
   */
  #pace(done: MessageDone): void {
    if (++this.#handled < BATCH) return done()
    this.#handled = 0
    const now = this.#now()
    if (now - this.#batchStart < BUDGET_MS) return done()
    this.#batchStart = now
    done((resume) => this.#defer(resume))
  }
}
