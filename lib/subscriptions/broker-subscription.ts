import type { MessageProperties, QoS } from '../message.js'
import type { PendingAck } from '../inbound/pending-ack.js'
import type { ParsedFilter } from '../topic.js'
import type { RetainedReask } from './retained-reask.js'

/**
 * A message as it came off the wire, before any observer's codec ran. MQTT.js's own PUBLISH packet has
 * this shape, so it is passed on as it is: no copy per message.
 */
export interface IncomingMessage {
  readonly topic: string
  readonly payload: Uint8Array
  readonly qos: QoS
  readonly retain: boolean
  readonly properties?: MessageProperties | undefined
}

/** The state of one broker subscription, as `client.subscriptions$` reports it. */
export interface SubscriptionInfo {
  /** The topic filter subscribed to, as observers gave it (a `$share/group/` prefix included). */
  readonly filter: string
  /** The QoS asked for: the highest any observer asked. */
  readonly requestedQos: QoS
  /** The QoS the broker granted, once its SUBACK came; lower than asked when the broker cannot give more. */
  readonly grantedQos: QoS | undefined
  /** How many observers share the subscription. */
  readonly observers: number
}

/** One observer of a filter, as the client sees it: what it asked for and how to reach it. */
export interface FilterObserver {
  readonly qos: QoS
  /** `ack` is present when the message waits for manual acknowledgements. */
  next(message: IncomingMessage, subscription: BrokerSubscription, ack: PendingAck | undefined): void
  error(error: Error): void
  complete(): void
}

/** What few subscriptions need: made on first use, so that an idle filter does not carry it. */
interface Extras {
  /** The latest retained message of each matching topic, oldest first. */
  retained: Map<string, IncomingMessage> | undefined
  /** The levels of `match`, for computing message params. */
  levels: readonly string[] | undefined
  reask: RetainedReask | undefined
  /**
   * The last re-ask answered on this connection: a broker that had more QoS 1/2 messages in flight to the client
   * than its window allows queues the resends behind live ones, so some come after the fence. They are its.
   */
  draining: RetainedReask | undefined
  incomplete: boolean
}

/**
 * The client's side of one broker subscription: the observers that share it, the QoS it was asked for
 * and granted, and the latest retained message of each matching topic for observers that join late.
 * Built to be small: an app may observe ten thousand filters (one observer is held without an array, and what
 * only a filter with retained messages or params needs is in an object made on first use).
 */
export class BrokerSubscription {
  readonly filter: string
  /** The filter incoming topics are matched against (`$share/group/` removed). */
  readonly match: string
  /** The MQTT 5 subscription identifier that routes the broker's copies to this subscription. */
  readonly id: number
  /** The QoS last sent in a SUBSCRIBE (0 before any). */
  requestedQos: QoS = 0
  /** The QoS the broker granted, once a SUBACK came. */
  grantedQos: QoS | undefined
  /** One observer, or several in an array replaced (never mutated) so a delivery loop is unaffected by changes. */
  #observers: FilterObserver | readonly FilterObserver[] | undefined
  #extras: Extras | undefined
  readonly #retainedLimit: number

  constructor(parsed: ParsedFilter, id: number, retainedLimit: number) {
    this.filter = parsed.filter
    this.match = parsed.match
    this.id = id
    this.#retainedLimit = retainedLimit
  }

  /** The levels of `match`, for computing message params. */
  get levels(): readonly string[] {
    const extras = this.#more()
    return (extras.levels ??= this.match.split('/'))
  }

  get observers(): readonly FilterObserver[] {
    const observers = this.#observers
    return observers === undefined ? [] : isList(observers) ? observers : [observers]
  }

  /**
   * The cache is not the filter's whole retained state: more topics have had a retained message than it
   * holds, or a live message came on a topic it held (the broker clears the retain flag of live messages, so
   * whether it replaced the stored value is unknown, and the cache dropped that topic). A late observer then
   * gets the retained messages from the broker instead (MQTT 5). A re-ask that brought them all clears it.
   */
  get incomplete(): boolean {
    return this.#extras?.incomplete ?? false
  }

  set incomplete(incomplete: boolean) {
    if (incomplete || this.#extras) this.#more().incomplete = incomplete
  }

  /** A late observers' re-ask of the retained messages under way (MQTT 5). */
  get reask(): RetainedReask | undefined {
    return this.#extras?.reask
  }

  set reask(reask: RetainedReask | undefined) {
    this.#more().reask = reask
  }

  /** The re-ask whose fence was answered (its late resends still go to its observers only), or none. */
  set draining(reask: RetainedReask | undefined) {
    if (reask || this.#extras) this.#more().draining = reask
  }

  info(): SubscriptionInfo {
    return { filter: this.filter, requestedQos: this.requestedQos, grantedQos: this.grantedQos, observers: this.observers.length }
  }

  /** The highest QoS any observer asked for. */
  wantedQos(): QoS {
    let qos: QoS = 0
    for (const observer of this.observers) if (observer.qos > qos) qos = observer.qos
    return qos
  }

  add(observer: FilterObserver): void {
    const observers = this.#observers
    this.#observers = observers === undefined ? observer : this.observers.concat(observer)
  }

  /** Removes an observer; returns how many remain. */
  remove(observer: FilterObserver): number {
    const remaining = this.observers.filter((o) => o !== observer)
    this.#observers = remaining.length > 1 ? remaining : remaining[0]
    this.reask?.leave(observer)
    this.#extras?.draining?.leave(observer)
    return remaining.length
  }

  /** How many topics' retained messages the cache holds. */
  get retainedCount(): number {
    return this.#extras?.retained?.size ?? 0
  }

  /** Sends the cached retained messages to one (new) observer, oldest first. */
  replayTo(observer: FilterObserver): void {
    const retained = this.#extras?.retained
    if (retained) for (const message of [...retained.values()]) observer.next(message, this, undefined)
  }

  /** Updates the retained cache and hands the message to every observer. */
  deliver(message: IncomingMessage, ack: PendingAck | undefined): void {
    const extras = this.#extras
    const reask = extras?.reask
    const draining = extras?.draining
    if (message.retain && (reask || draining)) {
      if (reask?.resending) return this.#resent(message, ack, reask)
      // Sent again after the fence of the last re-ask (the broker queued it behind live messages): its own.
      if (draining) return this.#resent(message, ack, draining)
      // Sent for another SUBSCRIBE before the broker took the re-ask (a new session's): the waiting observers have it now.
      reask?.first(message.topic)
    } else if (reask || draining) {
      // A live message is newer than the stored value a resend still on its way carries: the waiting observers have this.
      reask?.first(message.topic)
      draining?.first(message.topic)
    }
    if (message.retain && this.#isCached(message)) {
      // The retain flag marks a message sent because of a SUBSCRIBE (never a live one): under MQTT 3.1.1 every
      // SUBSCRIBE makes the broker send its stored messages again, and the copy for another overlapping filter
      // is routed here too; a new session's resubscription sends them again. Observers already have this state.
      return
    }
    if (message.retain) {
      this.#remember(message)
    } else if (extras?.retained?.delete(message.topic)) {
      // A live message on a topic the cache held: published retained or not (the broker clears the flag of live
      // messages), it may or may not have replaced the stored value, so the cache holds none of that topic.
      extras.incomplete = true
    }
    const observers = this.#observers
    if (observers === undefined) return
    if (!isList(observers)) return observers.next(message, this, ack)
    for (let i = 0; i < observers.length; i++) (observers[i] as FilterObserver).next(message, this, ack)
  }

  /**
   * A retained message the broker sent again because a late observer asked: for the observers waiting, once, and
   * not at all once a live message on its topic came (it is older than that).
   */
  #resent(message: IncomingMessage, ack: PendingAck | undefined, reask: RetainedReask): void {
    if (!reask.first(message.topic)) return
    this.#remember(message)
    const targets = reask.targets
    for (let i = 0; i < targets.length; i++) (targets[i] as FilterObserver).next(message, this, ack)
  }

  /** Completes every observer (the client is ending). */
  completeAll(): void {
    for (const observer of this.#end()) observer.complete()
  }

  /** Errors every observer (the broker refused the subscription, or the client failed for good). */
  errorAll(error: Error): void {
    for (const observer of this.#end()) observer.error(error)
  }

  #end(): readonly FilterObserver[] {
    const observers = this.observers
    this.#observers = undefined
    this.#extras = undefined
    return observers
  }

  #more(): Extras {
    return (this.#extras ??= { retained: undefined, levels: undefined, reask: undefined, draining: undefined, incomplete: false })
  }

  #isCached(message: IncomingMessage): boolean {
    const cached = this.#extras?.retained?.get(message.topic)
    if (!cached || cached.payload.length !== message.payload.length) return false
    for (let i = 0; i < cached.payload.length; i++) if (cached.payload[i] !== message.payload[i]) return false
    return true
  }

  /** Keeps a message with the retain flag (the broker's stored value) for late observers. */
  #remember(message: IncomingMessage): void {
    const extras = this.#more()
    const retained = (extras.retained ??= new Map())
    retained.delete(message.topic)
    // An empty retained payload is MQTT's way of deleting the retained value.
    if (message.payload.length === 0) return
    retained.set(message.topic, message)
    if (retained.size > this.#retainedLimit) {
      const oldest = retained.keys().next().value
      if (oldest !== undefined) retained.delete(oldest)
      extras.incomplete = true
    }
  }
}

const isList = (observers: FilterObserver | readonly FilterObserver[]): observers is readonly FilterObserver[] => Array.isArray(observers)
