import { BrokerSubscription } from './broker-subscription.js'
import type { ParsedFilter } from '../topic.js'
import { TopicTrie } from './topic-trie.js'

/** MQTT 5 subscription identifiers are variable byte integers from 1 to 268,435,455. */
const MAX_SUBSCRIPTION_ID = 268_435_455

/**
 * How a registry gives subscription identifiers:
 * - `reused` (a clean session): the lowest-numbered free ones, an identifier becoming free again once the broker
 *   can send nothing more with it ({@link SubscriptionRegistry.retire}). Identifiers stay as small as the number
 *   of filters observed at once: one byte on the wire up to 127 filters, two up to 16,383.
 * - `stable` (a persistent session): derived from the filter (FNV-1a), so that a new client instance resuming the
 *   session gives a filter the identifier the instance that subscribed it gave, and the messages the broker
 *   queued meanwhile (which carry it) still find their observers. A collision takes the next free one.
 * - `counted`: counted up from 1 and never given twice (a tab's identifiers towards the hub, where nothing says
 *   when a released one has no delivery left on its way).
 */
export type IdentifierScheme = 'reused' | 'stable' | 'counted'

/**
 * The client's active broker subscriptions, found by filter (to share one between observers), by
 * subscription identifier (to route an MQTT 5 copy to exactly its subscription) and by topic (a trie,
 * for MQTT 3.1.1 and brokers without identifiers).
 */
export class SubscriptionRegistry {
  readonly #byFilter = new Map<string, BrokerSubscription>()
  /**
   * By identifier: an array indexed by it where identifiers are reused (8 B a filter, where a Map entry costs
   * about 46), else a Map.
   */
  readonly #byId: (BrokerSubscription | undefined)[] | Map<number, BrokerSubscription>
  /** Reused identifiers free to give, and those released that the broker may still send messages with. */
  readonly #free: number[] = []
  readonly #retiring = new Set<number>()
  /** Built on first use: under MQTT 5 with subscription identifiers, messages never need it. */
  #trie: TopicTrie<BrokerSubscription> | undefined
  #nextId = 1

  readonly #retainedLimit: number
  readonly #scheme: IdentifierScheme

  constructor(retainedLimit: number, scheme: IdentifierScheme = 'counted') {
    this.#retainedLimit = retainedLimit
    this.#scheme = scheme
    this.#byId = scheme === 'reused' ? [undefined] : new Map()
  }

  get size(): number {
    return this.#byFilter.size
  }

  get(filter: string): BrokerSubscription | undefined {
    return this.#byFilter.get(filter)
  }

  create(parsed: ParsedFilter): BrokerSubscription {
    const subscription = new BrokerSubscription(parsed, this.#allocateId(parsed.filter), this.#retainedLimit)
    const byId = this.#byId
    this.#byFilter.set(subscription.filter, subscription)
    if (Array.isArray(byId)) byId[subscription.id] = subscription
    else byId.set(subscription.id, subscription)
    this.#trie?.add(subscription.match, subscription)
    return subscription
  }

  /** Removes a subscription; a reused identifier is free again once {@link retire}d. */
  delete(subscription: BrokerSubscription): void {
    if (this.#byFilter.get(subscription.filter) !== subscription) return
    const byId = this.#byId
    this.#byFilter.delete(subscription.filter)
    if (Array.isArray(byId)) {
      byId[subscription.id] = undefined
      this.#retiring.add(subscription.id)
    } else {
      byId.delete(subscription.id)
    }
    this.#trie?.remove(subscription.match, subscription)
  }

  /**
   * The broker will send nothing more with a deleted subscription's identifier (its UNSUBACK came: the messages
   * it sent before are read already), so it may be given again. Without `id`: every deleted one (a new clean
   * session has no subscriptions, and the last connection's messages are behind it).
   */
  retire(id?: number): void {
    for (const retired of id === undefined ? [...this.#retiring] : [id]) if (this.#retiring.delete(retired)) this.#free.push(retired)
  }

  byIdentifier(id: number): BrokerSubscription | undefined {
    const byId = this.#byId
    return Array.isArray(byId) ? byId[id] : byId.get(id)
  }

  /** Every subscription whose filter matches `topic`. */
  matching(topic: string): BrokerSubscription[] {
    if (!this.#trie) {
      this.#trie = new TopicTrie()
      for (const subscription of this.#byFilter.values()) this.#trie.add(subscription.match, subscription)
    }
    return this.#trie.match(topic)
  }

  all(): BrokerSubscription[] {
    return [...this.#byFilter.values()]
  }

  /** Empties the registry and ends every observer: completed, or errored with `error`. */
  endAll(error?: Error): void {
    for (const subscription of this.all()) {
      this.delete(subscription)
      if (error) subscription.errorAll(error)
      else subscription.completeAll()
    }
  }

  #allocateId(filter: string): number {
    const byId = this.#byId
    if (Array.isArray(byId)) return this.#free.pop() ?? byId.length
    let id = this.#nextId
    if (this.#scheme === 'stable') {
      let hash = 0x811c9dc5
      for (let i = 0; i < filter.length; i++) {
        hash ^= filter.charCodeAt(i)
        hash = Math.imul(hash, 0x01000193) >>> 0
      }
      id = (hash % MAX_SUBSCRIPTION_ID) + 1
    }
    while (byId.has(id)) id = id >= MAX_SUBSCRIPTION_ID ? 1 : id + 1
    if (this.#scheme === 'counted') this.#nextId = id >= MAX_SUBSCRIPTION_ID ? 1 : id + 1
    return id
  }
}
