import type { Observable } from 'rxjs'
import type { BrokerSubscription, FilterObserver, SubscriptionInfo } from './broker-subscription.js'
import { SubscriptionRejectedError } from '../errors.js'
import type { Connack, Link, Suback } from '../link/link.js'
import type { ProtocolVersion } from '../status.js'
import { Snapshots } from './snapshots.js'
import { SubscriptionRegistry } from './subscription-registry.js'
import type { ParsedFilter } from '../topic.js'
import { Log } from '../log/log.js'

/** What the subscriptions read of the connection: the SDK's own state. */
export interface SubscriptionsConnection {
  readonly writable: boolean
  readonly epoch: number
}

/**
 * The client's broker subscriptions: the registry, one SUBSCRIBE per filter and connection (and per QoS
 * upgrade), the SUBACK's grant, resubscription after every reconnect, and the UNSUBSCRIBE after the last
 * observer leaves. `subscriptions$` reports them.
 */
export class Subscriptions {
  readonly registry: SubscriptionRegistry
  readonly subscriptions$: Observable<readonly SubscriptionInfo[]>
  private readonly report = new Snapshots<readonly SubscriptionInfo[]>(() => this.snapshot())
  /** Filters whose SUBSCRIBE on this connection awaits its SUBACK: a close then is the broker's answer to it. */
  private readonly inFlight = new Set<string>()
  /** Filters released while offline: a persistent session still holds them, so they are unsubscribed on return. */
  private readonly stale = new Set<string>()
  private protocol: ProtocolVersion = 5
  private identifiers = false
  private resumed = false

  constructor(
    retainedLimit: number,
    private readonly link: Link,
    private readonly connection: SubscriptionsConnection,
    private readonly persistentSession: boolean,
    private readonly log: Log = Log.off,
  ) {
    this.registry = new SubscriptionRegistry(retainedLimit, persistentSession)
    this.subscriptions$ = this.report.observable
  }

  /** MQTT 5 subscription identifiers in use on this connection: messages can be routed by them. */
  get useIdentifiers(): boolean {
    return this.identifiers
  }

  get awaitingSuback(): readonly string[] {
    return [...this.inFlight]
  }

  /** An observer joins `parsed.filter`: a new broker subscription, or a share of one (upgraded if it wants more). */
  add(parsed: ParsedFilter, observer: FilterObserver): BrokerSubscription {
    const existing = this.registry.get(parsed.filter)
    const subscription = existing ?? this.registry.create(parsed)
    subscription.add(observer)
    this.report.changed()
    if (!existing) {
      this.stale.delete(parsed.filter)
      this.subscribe(subscription)
    } else {
      if (observer.qos > subscription.requestedQos) this.subscribe(subscription)
      subscription.replayTo(observer)
    }
    return subscription
  }

  /** An observer leaves; the last one out sends UNSUBSCRIBE. */
  release(subscription: BrokerSubscription, observer: FilterObserver): void {
    const remaining = subscription.remove(observer)
    this.report.changed()
    // A subscription the broker refused is gone already; its filter may belong to a new one by now.
    if (remaining > 0 || this.registry.get(subscription.filter) !== subscription) return
    this.registry.delete(subscription)
    const filter = subscription.filter
    if (this.connection.writable) {
      if (this.log.enabled) this.log.debug('unsubscribe', { filter }, `UNSUBSCRIBE ${filter}`)
      this.link.unsubscribe(filter, (ok) => {
        if (!ok && this.persistentSession && !this.registry.get(filter)) this.stale.add(filter)
      })
    } else if (this.persistentSession) {
      this.stale.add(filter)
    }
  }

  connected(connack: Connack, protocol: ProtocolVersion): void {
    this.protocol = protocol
    this.identifiers = protocol === 5 && connack.subscriptionIdentifiersAvailable
    this.resumed = connack.sessionPresent
  }

  /** Every active filter, exactly once per connection, with its own options: a new session has none, and a resumed one may predate a QoS upgrade. */
  ready(): void {
    for (const subscription of this.registry.all()) this.subscribe(subscription)
    if (this.resumed) for (const filter of this.stale) this.link.unsubscribe(filter, () => undefined)
    this.stale.clear()
  }

  /** The connection is gone: no grant holds until the next SUBACK. */
  lost(): void {
    this.inFlight.clear()
    for (const subscription of this.registry.all()) subscription.grantedQos = undefined
    this.report.changed()
  }

  /** The client is ending: observers complete, and a persistent session keeps its subscriptions on the broker. */
  completeAll(): void {
    this.registry.endAll()
  }

  errorAll(error: Error): void {
    this.registry.endAll(error)
  }

  finish(): void {
    this.report.finish([])
  }

  private subscribe(subscription: BrokerSubscription): void {
    subscription.requestedQos = subscription.wantedQos()
    if (!this.connection.writable) return // sent by ready()
    const v5 = this.protocol === 5
    subscription.retainAsPublished = v5
    this.inFlight.add(subscription.filter)
    const epoch = this.connection.epoch
    // rh 1: a QoS upgrade or a resubscription on a resumed session does not resend retained messages;
    // rap: live retained publishes keep their flag, so the retained cache follows them.
    const options = v5 ? { qos: subscription.requestedQos, rh: 1 as const, rap: true, id: this.identifiers ? subscription.id : undefined } : { qos: subscription.requestedQos }
    // Guarded: an app may observe 100,000 filters, and the line is built only for a logger.
    if (this.log.enabled) this.log.debug('subscribe', { filter: subscription.filter, qos: options.qos, id: v5 ? options.id : undefined }, `SUBSCRIBE ${subscription.filter} (QoS ${options.qos})`)
    this.link.subscribe(subscription.filter, options, (result) => this.onSuback(subscription, epoch, result))
  }

  private onSuback(subscription: BrokerSubscription, epoch: number, result: Suback): void {
    // A SUBACK of an earlier connection says nothing about this one; ready() subscribed again.
    if ('lost' in result || epoch !== this.connection.epoch) return
    this.inFlight.delete(subscription.filter)
    if (this.registry.get(subscription.filter) !== subscription) return
    if ('refused' in result) {
      this.log.warn('suback', { filter: subscription.filter, refused: result.refused }, `SUBACK refused ${subscription.filter} (reason code ${result.refused})`)
      this.registry.delete(subscription)
      this.report.changed()
      subscription.errorAll(new SubscriptionRejectedError(subscription.filter, result.refused))
      return
    }
    subscription.grantedQos = result.granted
    if (this.log.enabled) this.log.debug('suback', { filter: subscription.filter, granted: result.granted }, `SUBACK ${subscription.filter} (granted QoS ${result.granted})`)
    this.report.changed()
  }

  private snapshot(): readonly SubscriptionInfo[] {
    return this.registry.all().map((s) => s.info())
  }
}
