import type { MessageProperties, QoS } from './message.js'
import type { PendingAck } from './pending-ack.js'
import type { ParsedFilter } from './topic.js'

/** A message as it came off the wire, before any observer's codec ran. */
export interface IncomingMessage {
  readonly topic: string
  readonly raw: Uint8Array
  readonly qos: QoS
  readonly retain: boolean
  readonly properties: MessageProperties | undefined
  /** Present while manually acknowledging observers exist and the message needs an acknowledgement (QoS 1/2). */
  readonly ack?: PendingAck | undefined
}

/** The state of one broker subscription, as `client.subscriptions$` reports it. */
export interface SubscriptionInfo {
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
  next(message: IncomingMessage, subscription: BrokerSubscription): void
  error(error: Error): void
  complete(): void
}

/**
 * The client's side of one broker subscription: the observers that share it, the QoS it was asked for
 * and granted, and the latest retained message of each matching topic for observers that join late.
 */
export class BrokerSubscription {
  readonly filter: string
  /** The filter incoming topics are matched against (`$share/group/` removed). */
  readonly match: string
  readonly levels: readonly string[]
  /** The MQTT 5 subscription identifier that routes the broker's copies to this subscription. */
  readonly id: number
  /** Replaced, never mutated, so a delivery loop is unaffected by observers joining or leaving in it. */
  observers: readonly FilterObserver[] = []
  /** The QoS last sent in a SUBSCRIBE (0 before any). */
  requestedQos: QoS = 0
  /** The QoS the broker granted, once a SUBACK came. */
  grantedQos: QoS | undefined
  /**
   * Whether live messages show the retain flag as published (MQTT 5 Retain As Published). Without it a
   * live message may have replaced a retained value unseen, so the cached value is dropped instead.
   */
  retainAsPublished = false
  private readonly retained = new Map<string, IncomingMessage>()
  private readonly retainedLimit: number

  constructor(parsed: ParsedFilter, id: number, retainedLimit: number) {
    this.filter = parsed.filter
    this.match = parsed.match
    this.levels = parsed.match.split('/')
    this.id = id
    this.retainedLimit = retainedLimit
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
    this.observers = [...this.observers, observer]
  }

  /** Removes an observer; returns how many remain. */
  remove(observer: FilterObserver): number {
    this.observers = this.observers.filter((o) => o !== observer)
    return this.observers.length
  }

  /** Sends the cached retained messages to one (new) observer, oldest first. */
  replayTo(observer: FilterObserver): void {
    for (const message of [...this.retained.values()]) observer.next(message, this)
  }

  /** Updates the retained cache and hands the message to every observer. */
  deliver(message: IncomingMessage): void {
    this.remember(message)
    const observers = this.observers
    for (let i = 0; i < observers.length; i++) (observers[i] as FilterObserver).next(message, this)
  }

  /** Completes every observer (the client is ending). */
  completeAll(): void {
    const observers = this.observers
    this.observers = []
    this.retained.clear()
    for (const observer of observers) observer.complete()
  }

  /** Errors every observer (the broker refused the subscription, or the client failed for good). */
  errorAll(error: Error): void {
    const observers = this.observers
    this.observers = []
    this.retained.clear()
    for (const observer of observers) observer.error(error)
  }

  private remember(message: IncomingMessage): void {
    if (message.retain) {
      this.retained.delete(message.topic)
      // An empty retained payload is MQTT's way of deleting the retained value.
      if (message.raw.length === 0) return
      this.retained.set(message.topic, message)
      if (this.retained.size > this.retainedLimit) {
        const oldest = this.retained.keys().next().value
        if (oldest !== undefined) this.retained.delete(oldest)
      }
    } else if (!this.retainAsPublished && this.retained.size > 0) {
      this.retained.delete(message.topic)
    }
  }
}
