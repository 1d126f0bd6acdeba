import type { Observable } from 'rxjs'
import { BrokerSubscription, type FilterObserver, type SubscriptionInfo } from '../subscriptions/broker-subscription.js'
import { Snapshots } from '../subscriptions/snapshots.js'
import { SubscriptionRegistry } from '../subscriptions/subscription-registry.js'
import type { IotPubSubError } from '../errors.js'
import type { ParsedFilter } from '../topic.js'
import type { Delivery, ObserveRequest, ToHub } from './tab-protocol.js'

/**
 * One tab's filters on a shared connection: its observers ref-counted here (one observation at the hub per
 * filter and tab), the latest retained message of each topic kept for observers that join late (so a second
 * component gets the current value at once, with no round trip), and the hub's broker subscriptions as this
 * tab sees them. A late observer of a filter whose cache is incomplete (see `BrokerSubscription.incomplete`) is
 * observed at the hub on its own instead: the hub's client gives it the broker's retained state as it gives any
 * late observer, and only to it.
 */
export class TabSubscriptions {
  readonly registry: SubscriptionRegistry
  readonly subscriptions$: Observable<readonly SubscriptionInfo[]>
  readonly #report = new Snapshots<readonly SubscriptionInfo[]>(() => this.#snapshot())
  #hubView = new Map<string, SubscriptionInfo>()
  /** Late observers observed on their own, by identifier: each has a subscription outside the registry. */
  readonly #alone = new Map<number, BrokerSubscription>()
  readonly #retainedLimit: number

  readonly #send: (message: ToHub) => void
  readonly #tab: string

  constructor(retainedLimit: number, send: (message: ToHub) => void, tab: string) {
    this.#send = send
    this.#tab = tab
    this.#retainedLimit = retainedLimit
    this.registry = new SubscriptionRegistry(retainedLimit)
    this.subscriptions$ = this.#report.observable
  }

  add(parsed: ParsedFilter, observer: FilterObserver): BrokerSubscription {
    const existing = this.registry.get(parsed.filter)
    if (existing?.incomplete) return this.#observeAlone(parsed, observer)
    const subscription = existing ?? this.registry.create(parsed)
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
    if (this.#alone.delete(subscription.id)) return this.#send({ t: 'release', tab: this.#tab, id: subscription.id })
    if (remaining > 0 || this.registry.get(subscription.filter) !== subscription) return
    this.registry.delete(subscription)
    this.#send({ t: 'release', tab: this.#tab, id: subscription.id })
  }

  /** What this tab observes, for a hub that is new to it. */
  requests(): ObserveRequest[] {
    return [...this.registry.all(), ...this.#alone.values()].map((s) => this.#request(s))
  }

  deliver(batch: readonly Delivery[]): void {
    for (const [id, topic, payload, qos, retain, properties] of batch) {
      const subscription = this.registry.byIdentifier(id, topic) ?? this.#alone.get(id)
      subscription?.deliver(properties ? { topic, payload, qos, retain, properties } : { topic, payload, qos, retain }, undefined)
    }
  }

  /** The hub's subscription for one of this tab's filters ended (a SUBACK refusal). */
  failed(id: number, error: IotPubSubError): void {
    const subscription = this.registry.byIdentifier(id) ?? this.#alone.get(id)
    if (!subscription) return
    this.registry.delete(subscription)
    this.#alone.delete(id)
    subscription.errorAll(error)
    this.#report.changed()
  }

  hubSubscriptions(list: readonly SubscriptionInfo[]): void {
    this.#hubView = new Map(list.map((info) => [info.filter, info]))
    this.#report.changed()
  }

  completeAll(): void {
    this.registry.endAll()
    for (const subscription of this.#endAlone()) subscription.completeAll()
  }

  errorAll(error: Error): void {
    this.registry.endAll(error)
    for (const subscription of this.#endAlone()) subscription.errorAll(error)
  }

  #endAlone(): BrokerSubscription[] {
    const alone = [...this.#alone.values()]
    this.#alone.clear()
    return alone
  }

  #observeAlone(parsed: ParsedFilter, observer: FilterObserver): BrokerSubscription {
    const subscription = new BrokerSubscription(parsed, this.registry.reserveId(), this.#retainedLimit)
    subscription.add(observer)
    subscription.requestedQos = observer.qos
    this.#alone.set(subscription.id, subscription)
    this.#send({ t: 'observe', tab: this.#tab, observe: this.#request(subscription) })
    this.#report.changed()
    return subscription
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
      let observers = s.observers.length
      for (const alone of this.#alone.values()) if (alone.filter === s.filter) observers += alone.observers.length
      return { filter: s.filter, requestedQos: hub?.requestedQos ?? s.requestedQos, grantedQos: hub?.grantedQos, observers }
    })
  }
}
