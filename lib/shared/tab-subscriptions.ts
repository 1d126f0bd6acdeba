import type { Observable } from 'rxjs'
import type { BrokerSubscription, FilterObserver, SubscriptionInfo } from '../subscriptions/broker-subscription.js'
import { Snapshots } from '../subscriptions/snapshots.js'
import { SubscriptionRegistry } from '../subscriptions/subscription-registry.js'
import type { IotPubSubError } from '../errors.js'
import type { ParsedFilter } from '../topic.js'
import type { Delivery, ObserveRequest, ToHub } from './tab-protocol.js'

/**
 * One tab's filters on a shared connection: its observers ref-counted here (one observation at the hub per
 * filter and tab), the latest retained message of each topic kept for observers that join late (so a second
 * component gets the current value at once, with no round trip), and the hub's broker subscriptions as this
 * tab sees them.
 */
export class TabSubscriptions {
  readonly registry: SubscriptionRegistry
  readonly subscriptions$: Observable<readonly SubscriptionInfo[]>
  readonly #report = new Snapshots<readonly SubscriptionInfo[]>(() => this.#snapshot())
  #hubView = new Map<string, SubscriptionInfo>()
  #retainAsPublished = true

  readonly #send: (message: ToHub) => void
  readonly #tab: string

  constructor(retainedLimit: number, send: (message: ToHub) => void, tab: string) {
    this.#send = send
    this.#tab = tab
    this.registry = new SubscriptionRegistry(retainedLimit)
    this.subscriptions$ = this.#report.observable
  }

  add(parsed: ParsedFilter, observer: FilterObserver): BrokerSubscription {
    const existing = this.registry.get(parsed.filter)
    const subscription = existing ?? this.registry.create(parsed)
    subscription.retainAsPublished = this.#retainAsPublished
    subscription.add(observer)
    if (!existing || observer.qos > subscription.requestedQos) {
      subscription.requestedQos = subscription.wantedQos()
      this.#send({ t: 'observe', tab: this.#tab, observe: this.#request(subscription) })
    }
    if (existing) subscription.replayTo(observer)
    this.#report.changed()
    return subscription
  }

  release(subscription: BrokerSubscription, observer: FilterObserver): void {
    const remaining = subscription.remove(observer)
    this.#report.changed()
    if (remaining > 0 || this.registry.get(subscription.filter) !== subscription) return
    this.registry.delete(subscription)
    this.#send({ t: 'release', tab: this.#tab, id: subscription.id })
  }

  /** What this tab observes, for a hub that is new to it. */
  requests(): ObserveRequest[] {
    return this.registry.all().map((s) => this.#request(s))
  }

  deliver(batch: readonly Delivery[]): void {
    for (const [id, topic, payload, qos, retain, properties] of batch) {
      this.registry.byIdentifier(id, topic)?.deliver(properties ? { topic, payload, qos, retain, properties } : { topic, payload, qos, retain }, undefined)
    }
  }

  /** The hub's subscription for one of this tab's filters ended (a SUBACK refusal). */
  failed(id: number, error: IotPubSubError): void {
    const subscription = this.registry.byIdentifier(id)
    if (!subscription) return
    this.registry.delete(subscription)
    subscription.errorAll(error)
    this.#report.changed()
  }

  /** The hub's connection: MQTT 5 keeps the retain flag as published (so the retained cache follows it). */
  protocol(version: 4 | 5): void {
    this.#retainAsPublished = version === 5
    for (const subscription of this.registry.all()) subscription.retainAsPublished = this.#retainAsPublished
  }

  hubSubscriptions(list: readonly SubscriptionInfo[]): void {
    this.#hubView = new Map(list.map((info) => [info.filter, info]))
    this.#report.changed()
  }

  completeAll(): void {
    this.registry.endAll()
  }

  errorAll(error: Error): void {
    this.registry.endAll(error)
  }

  finish(): void {
    this.#report.finish([])
  }

  #request(subscription: BrokerSubscription): ObserveRequest {
    return { id: subscription.id, filter: subscription.filter, qos: subscription.requestedQos }
  }

  /** This tab's filters, with the broker's grant from the hub and this tab's own observer counts. */
  #snapshot(): readonly SubscriptionInfo[] {
    return this.registry.all().map((s) => {
      const hub = this.#hubView.get(s.filter)
      return { filter: s.filter, requestedQos: hub?.requestedQos ?? s.requestedQos, grantedQos: hub?.grantedQos, observers: s.observers.length }
    })
  }
}
