import { BrokerSubscription } from './broker-subscription.js'
import type { ParsedFilter } from '../topic.js'
import { TopicTrie } from './topic-trie.js'

/** MQTT 5 subscription identifiers are variable byte integers from 1 to 268,435,455. */
const MAX_SUBSCRIPTION_ID = 268_435_455

/**
 * The client's active broker subscriptions, found by filter (to share one between observers), by
 * subscription identifier (to route an MQTT 5 copy to exactly its subscription) and by topic (a trie,
 * for MQTT 3.1.1 and brokers without identifiers).
 */
export class SubscriptionRegistry {
  readonly #byFilter = new Map<string, BrokerSubscription>()
  readonly #byId = new Map<number, BrokerSubscription>()
  /** Built on first use: under MQTT 5 with subscription identifiers, messages never need it. */
  #trie: TopicTrie<BrokerSubscription> | undefined
  #nextId = 1

  readonly #retainedLimit: number
  readonly #stable: boolean

  /** `stable`: identifiers derived from the filter, the same in every client instance (persistent sessions). */
  constructor(retainedLimit: number, stable = false) {
    this.#retainedLimit = retainedLimit
    this.#stable = stable
  }

  get size(): number {
    return this.#byFilter.size
  }

  get(filter: string): BrokerSubscription | undefined {
    return this.#byFilter.get(filter)
  }

  create(parsed: ParsedFilter): BrokerSubscription {
    const subscription = new BrokerSubscription(parsed, this.#allocateId(parsed.filter), this.#retainedLimit)
    this.#byFilter.set(subscription.filter, subscription)
    this.#byId.set(subscription.id, subscription)
    this.#trie?.add(subscription.match, subscription)
    return subscription
  }

  delete(subscription: BrokerSubscription): void {
    if (this.#byFilter.get(subscription.filter) !== subscription) return
    this.#byFilter.delete(subscription.filter)
    this.#byId.delete(subscription.id)
    this.#trie?.remove(subscription.match, subscription)
  }

  byIdentifier(id: number): BrokerSubscription | undefined {
    return this.#byId.get(id)
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

  /**
   * Two schemes. For a clean session, identifiers count up from 1 and are never given twice by one client:
   * the first 127 filters cost one byte on the wire (a variable byte integer), the first 16,383 two, where a
   * hash costs four; never reusing one means a message still on its way for a released filter cannot reach
   * another filter's observers. For a persistent session (`stable`), the identifier is derived from the
   * filter (FNV-1a): a new client instance resuming the session gives a filter the identifier the instance
   * that subscribed it gave, so the messages the broker queued meanwhile (which carry it) still find their
   * observers. A collision takes the next free one.
   */
  #allocateId(filter: string): number {
    let id: number
    if (this.#stable) {
      let hash = 0x811c9dc5
      for (let i = 0; i < filter.length; i++) {
        hash ^= filter.charCodeAt(i)
        hash = Math.imul(hash, 0x01000193) >>> 0
      }
      id = (hash % MAX_SUBSCRIPTION_ID) + 1
    } else {
      id = this.#nextId
    }
    while (this.#byId.has(id)) id = id >= MAX_SUBSCRIPTION_ID ? 1 : id + 1
    if (!this.#stable) this.#nextId = id >= MAX_SUBSCRIPTION_ID ? 1 : id + 1
    return id
  }
}
