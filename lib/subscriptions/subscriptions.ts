import type { Observable } from 'rxjs'
import type { BrokerSubscription, FilterObserver, SubscriptionInfo } from './broker-subscription.js'
import { SubscriptionRejectedError } from '../errors.js'
import type { Connack, Link, LinkSubscribeOptions, Suback } from '../link/link.js'
import type { ProtocolVersion } from '../status.js'
import { Snapshots } from './snapshots.js'
import { SubscriptionRegistry } from './subscription-registry.js'
import type { ParsedFilter } from '../topic.js'
import { Log } from '../log/log.js'
import { RequestWindow } from './request-window.js'
import { RetainedReask } from './retained-reask.js'

/** A flood of SUBACKs is reported in `subscriptions$` at least this many grants apart (or when it is over). */
const REPORT_GRANTS_EVERY = 1_000

/** What the subscriptions read of the connection: the SDK's own state. */
export interface SubscriptionsConnection {
  readonly writable: boolean
  readonly epoch: number
}

/**
 * The client's broker subscriptions: the registry, one SUBSCRIBE per filter and connection (and per QoS
 * upgrade), the SUBACK's grant, resubscription after every reconnect, and the UNSUBSCRIBE after the last
 * observer leaves. `subscriptions$` reports them. Requests go out through a {@link RequestWindow} (a bounded
 * number of packets in flight, filters sharing packets where they share a subscription identifier or have none), and a
 * late observer of a filter whose retained cache is incomplete has the broker send the retained messages again
 * (MQTT 5, {@link RetainedReask}).
 */
export class Subscriptions {
  readonly registry: SubscriptionRegistry
  readonly subscriptions$: Observable<readonly SubscriptionInfo[]>
  readonly #report = new Snapshots<readonly SubscriptionInfo[]>(() => this.#snapshot())
  /** Filters whose SUBSCRIBE on this connection awaits its SUBACK: a close then is the broker's answer to it. */
  readonly #inFlight = new Set<string>()
  /** Filters released while offline: a persistent session still holds them, so they are unsubscribed on return. */
  readonly #stale = new Set<string>()
  #protocol: ProtocolVersion = 5
  #identifiers = false
  #resumed = false
  #maximumPacketSize: number | undefined
  /** Grants not reported in `subscriptions$` yet (see `grantChanged`). */
  #unreportedGrants = 0
  /** This connection's requests; made when it becomes writable, closed when it is lost. */
  #window: RequestWindow | undefined
  /** Subscriptions with a SUBSCRIBE queued in the window and not yet sent: a second one would say the same. */
  readonly #queued = new Set<BrokerSubscription>()
  /** Subscriptions whose incomplete cache was replayed under MQTT 3.1.1 (warned once each). */
  readonly #warnedIncomplete = new WeakSet<BrokerSubscription>()

  readonly #link: Link
  readonly #connection: SubscriptionsConnection
  readonly #persistentSession: boolean
  readonly #log: Log

  constructor(
    retainedLimit: number,
    link: Link,
    connection: SubscriptionsConnection,
    persistentSession: boolean,
    log: Log = Log.off,
  ) {
    this.#link = link
    this.#connection = connection
    this.#persistentSession = persistentSession
    this.#log = log
    this.registry = new SubscriptionRegistry(retainedLimit, persistentSession ? 'stable' : 'reused')
    this.subscriptions$ = this.#report.observable
  }

  /** MQTT 5 subscription identifiers in use on this connection: messages can be routed by them. */
  get useIdentifiers(): boolean {
    return this.#identifiers
  }

  get awaitingSuback(): readonly string[] {
    return [...this.#inFlight]
  }

  /** An observer joins `parsed.filter`: a new broker subscription, or a share of one (upgraded if it wants more). */
  add(parsed: ParsedFilter, observer: FilterObserver): BrokerSubscription {
    const existing = this.registry.get(parsed.filter)
    const subscription = existing ?? this.registry.create(parsed)
    subscription.add(observer)
    this.#report.changed()
    if (!existing) {
      this.#stale.delete(parsed.filter)
      this.#subscribe(subscription)
    } else {
      if (observer.qos > subscription.requestedQos) this.#subscribe(subscription)
      // While a re-ask is under way the cache is being filled again: a late observer waits for it too.
      if (subscription.reask) this.#reask(subscription, observer)
      else if (!subscription.incomplete) subscription.replayTo(observer)
      else if (this.#protocol === 5) this.#reask(subscription, observer)
      else {
        // MQTT 3.1.1 has no Retain Handling: a SUBSCRIBE that asked again could not be told from a new one, nor
        // fenced off, so the broker is not asked again: the observer gets what the cache holds, and the log says so.
        if (!this.#warnedIncomplete.has(subscription)) {
          this.#warnedIncomplete.add(subscription)
          this.#log.warn('subscribe', { filter: subscription.filter, retained: subscription.retainedCount }, `a late observer of ${subscription.filter} gets only the ${subscription.retainedCount} retained messages the cache holds: more topics than retainedCacheSize have had one, or live messages came on retained topics, and MQTT 3.1.1 cannot ask the broker again`)
        }
        subscription.replayTo(observer)
      }
    }
    return subscription
  }

  /** An observer leaves; the last one out sends UNSUBSCRIBE. */
  release(subscription: BrokerSubscription, observer: FilterObserver): void {
    const remaining = subscription.remove(observer)
    this.#report.changed()
    // A subscription the broker refused is gone already; its filter may belong to a new one by now.
    if (remaining > 0 || this.registry.get(subscription.filter) !== subscription) return
    this.registry.delete(subscription)
    subscription.reask = undefined
    const filter = subscription.filter
    const window = this.#connection.writable ? this.#window : undefined
    if (window) {
      if (this.#log.enabled) this.#log.debug('unsubscribe', { filter }, `UNSUBSCRIBE ${filter}`)
      window.unsubscribe(filter, (ok) => {
        if (ok) this.registry.retire(subscription)
        else if (this.#persistentSession && !this.registry.get(filter)) this.#stale.add(filter)
      })
    } else if (this.#persistentSession) {
      this.#stale.add(filter)
    }
  }

  connected(connack: Connack, protocol: ProtocolVersion): void {
    this.#protocol = protocol
    this.#identifiers = protocol === 5 && connack.subscriptionIdentifiersAvailable
    this.#resumed = connack.sessionPresent
    this.#maximumPacketSize = connack.maximumPacketSize
  }

  /** Every active filter, exactly once per connection, with its own options: a new session has none, and a resumed one may predate a QoS upgrade. */
  ready(): void {
    this.#window = new RequestWindow(this.#link, this.#maximumPacketSize)
    // A clean session holds none of the last connection's subscriptions: their identifiers may be given again.
    if (!this.#persistentSession) this.registry.retire()
    for (const subscription of this.registry.all()) {
      this.#subscribe(subscription)
      const reask = subscription.reask
      if (reask && !this.#resumed) {
        // A new session's SUBSCRIBE brings every retained message to every observer, except those the cache
        // holds as they are (observers have them): the waiting ones get those now.
        subscription.reask = undefined
        reask.restart()
        for (const observer of reask.targets) subscription.replayTo(observer)
      } else if (reask) {
        this.#sendReask(subscription)
      }
    }
    if (this.#resumed) for (const filter of this.#stale) this.#window.unsubscribe(filter, () => undefined)
    this.#stale.clear()
  }

  /** Sends the SUBSCRIBEs held to share packets now: a publish is about to go out, and must not overtake them. */
  flush(): void {
    this.#window?.flush()
  }

  /** The connection is gone: no grant holds until the next SUBACK. */
  lost(): void {
    this.#inFlight.clear()
    this.#queued.clear()
    const unsent = this.#window?.close() ?? []
    this.#window = undefined
    for (const request of unsent) {
      // An UNSUBSCRIBE never sent: a persistent session still has the filter, unsubscribed on return.
      if (request.type === 'unsubscribe' && this.#persistentSession && !this.registry.get(request.filter)) this.#stale.add(request.filter)
    }
    for (const subscription of this.registry.all()) {
      subscription.grantedQos = undefined
      subscription.reask?.restart()
      // A new connection's retained messages are for every observer (a new session) or none (a resumed one).
      subscription.draining = undefined
    }
    this.#report.changed()
  }

  /** The client is ending: observers complete, and a persistent session keeps its subscriptions on the broker. */
  completeAll(): void {
    this.registry.endAll()
  }

  errorAll(error: Error): void {
    this.registry.endAll(error)
  }

  finish(): void {
    this.#report.finish([])
  }

  #subscribe(subscription: BrokerSubscription): void {
    subscription.requestedQos = subscription.wantedQos()
    const window = this.#connection.writable ? this.#window : undefined
    if (!window || this.#queued.has(subscription)) return // sent by ready(), or by the request already waiting
    this.#queued.add(subscription)
    const epoch = this.#connection.epoch
    window.subscribe(
      subscription.filter,
      this.#idOf(subscription),
      () => {
        this.#queued.delete(subscription)
        // rh 1: a QoS upgrade or a resubscription on a resumed session does not resend retained messages.
        return this.#sending(subscription, 1)
      },
      (result) => this.#onSuback(subscription, epoch, result),
    )
  }

  /**
   * A late observer of a filter whose retained cache is incomplete: the broker is asked to send every retained
   * message of the filter again, for the observers waiting for them. Two SUBSCRIBEs, each in a packet of its
   * own: the first with Retain Handling 0 (send them), the second with Retain Handling 1 (send nothing), a fence:
   * between their SUBACKs every message with the retain flag is one of them (Retain As Published is off, so the
   * broker clears the flag on live ones). Once the second SUBACK came, the cache holds the broker's retained
   * state again unless it overflowed or a live message dropped an entry meanwhile.
   */
  #reask(subscription: BrokerSubscription, observer: FilterObserver): void {
    const current = subscription.reask
    if (current) return current.join(observer)
    const reask = (subscription.reask = new RetainedReask([observer]))
    // Asked once this task is done: an observer that leaves at once (a peek at the cache) costs no SUBSCRIBE.
    queueMicrotask(() => {
      if (subscription.reask !== reask) return
      if (reask.targets.length > 0) this.#sendReask(subscription)
      else subscription.reask = undefined
    })
  }

  #sendReask(subscription: BrokerSubscription): void {
    const window = this.#connection.writable ? this.#window : undefined
    const reask = subscription.reask
    if (!window || !reask) return // sent by ready()
    const epoch = this.#connection.epoch
    if (this.#log.enabled) this.#log.debug('subscribe', { filter: subscription.filter, observers: reask.targets.length }, `SUBSCRIBE ${subscription.filter} again: its retained cache is incomplete, and a late observer gets the retained messages from the broker`)
    window.subscribe(subscription.filter, this.#idOf(subscription), () => this.#sending(subscription, 0), (result) => {
      if (this.#onSuback(subscription, epoch, result) && subscription.reask === reask) {
        reask.resending = true
        // The broker's retained messages follow: what overflows or is dropped from here on makes it incomplete again.
        subscription.incomplete = false
      }
    }, true)
    window.subscribe(subscription.filter, this.#idOf(subscription), () => this.#sending(subscription, 1), (result) => {
      if (!this.#onSuback(subscription, epoch, result) || subscription.reask !== reask) return
      subscription.draining = reask
      const later = reask.next()
      if (later && subscription.incomplete) {
        subscription.reask = new RetainedReask(later)
        return this.#sendReask(subscription)
      }
      // Those that came while the broker was sending: the cache is the broker's retained state now.
      subscription.reask = undefined
      if (later) for (const observer of later) subscription.replayTo(observer)
    }, true)
  }

  /** The subscription identifier a SUBSCRIBE of `subscription` carries on this connection, if any. */
  #idOf(subscription: BrokerSubscription): number | undefined {
    return this.#identifiers ? subscription.id : undefined
  }

  /** The options of a SUBSCRIBE being sent now (and the filter counted as awaiting its SUBACK). */
  #sending(subscription: BrokerSubscription, rh: 0 | 1): LinkSubscribeOptions {
    const v5 = this.#protocol === 5
    this.#inFlight.add(subscription.filter)
    const qos = subscription.requestedQos
    // Retain As Published stays off (the links' default): a live message comes with `retain: false`, as under 3.1.1.
    const options = v5 ? { qos, rh, id: this.#idOf(subscription) } : { qos }
    // Guarded: an app may observe 100,000 filters, and the line is built only for a logger.
    if (this.#log.enabled) this.#log.debug('subscribe', { filter: subscription.filter, qos, id: v5 ? options.id : undefined }, `SUBSCRIBE ${subscription.filter} (QoS ${qos})`)
    return options
  }

  /** Returns whether the SUBACK granted this connection's subscription. */
  #onSuback(subscription: BrokerSubscription, epoch: number, result: Suback): boolean {
    // A SUBACK of an earlier connection says nothing about this one; ready() subscribed again.
    if ('lost' in result || epoch !== this.#connection.epoch) return false
    this.#inFlight.delete(subscription.filter)
    if (this.registry.get(subscription.filter) !== subscription) return false
    if ('refused' in result) {
      this.#log.warn('suback', { filter: subscription.filter, refused: result.refused }, `SUBACK refused ${subscription.filter} (reason code ${result.refused})`)
      this.registry.delete(subscription)
      subscription.reask = undefined
      this.#report.changed()
      subscription.errorAll(new SubscriptionRejectedError(subscription.filter, result.refused))
      return false
    }
    subscription.grantedQos = result.granted
    if (this.#log.enabled) this.#log.debug('suback', { filter: subscription.filter, granted: result.granted }, `SUBACK ${subscription.filter} (granted QoS ${result.granted})`)
    this.#grantChanged()
    return true
  }

  /**
   * A grant to report. A snapshot lists every subscription, so a flood of SUBACKs (100,000 filters: hundreds of
   * packets a millisecond) is reported when the window is idle, and on the way every eighth of the registry's
   * size, instead of once per microtask: that was hundreds of 100,000-entry snapshots, most of the flood's CPU.
   */
  #grantChanged(): void {
    const window = this.#window
    this.#unreportedGrants += 1
    if (window && window.pending + window.queued > 0 && this.#unreportedGrants < Math.max(REPORT_GRANTS_EVERY, this.registry.size / 8)) return
    this.#unreportedGrants = 0
    this.#report.changed()
  }

  #snapshot(): readonly SubscriptionInfo[] {
    return this.registry.all().map((s) => s.info())
  }
}
