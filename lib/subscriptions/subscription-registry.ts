import { BrokerSubscription } from './broker-subscription.js'
import type { ParsedFilter } from '../topic.js'
import { TopicTrie } from './topic-trie.js'

/** MQTT 5 subscription identifiers are variable byte integers from 1 to 268,435,455. */
const MAX_SUBSCRIPTION_ID = 268_435_455
/** Filters without wildcards that share one identifier, and so may share a SUBSCRIBE (as many as fit one). */
export const FILTERS_PER_IDENTIFIER = 100

/**
 * How a registry gives subscription identifiers:
 * - `reused` (a clean session): the lowest-numbered free ones, an identifier becoming free again once the broker
 *   can send nothing more with it ({@link SubscriptionRegistry.retire}). Identifiers stay as small as the number
 *   of filters observed at once: one byte on the wire up to 127 filters, two up to 16,383. Filters without
 *   wildcards share one, up to {@link FILTERS_PER_IDENTIFIER} of them, so that their SUBSCRIBEs share packets
 *   (100,000 device topics: 1,000 packets, not 100,000); a copy carrying it goes to the one whose filter is its
 *   topic.
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
   * about 46), else a Map. A number there is an identifier shared by that many filters without wildcards.
   */
  readonly #byId: (BrokerSubscription | number | undefined)[] | Map<number, BrokerSubscription>
  /** Reused identifiers free to give. */
  readonly #free: number[] = []
  /**
   * Identifiers no filter has any more, that the broker may still send messages with: each waits for the UNSUBACK
   * of the subscription whose release left it unused.
   */
  readonly #retiring = new Map<number, BrokerSubscription>()
  /** The shared identifier filters without wildcards join, while it has room. */
  #sharedId = 0
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
    const byId = this.#byId
    const shared = Array.isArray(byId) && parsed.match === parsed.filter && !/[+#]/.test(parsed.filter)
    const subscription = new BrokerSubscription(parsed, shared ? this.#shareId(byId) : this.#allocateId(parsed.filter), this.#retainedLimit)
    this.#byFilter.set(subscription.filter, subscription)
    if (!Array.isArray(byId)) byId.set(subscription.id, subscription)
    else if (!shared) byId[subscription.id] = subscription
    this.#trie?.add(subscription.match, subscription)
    return subscription
  }

  /**
   * An identifier for a subscription kept outside the registry (a tab's late observer observed on its own at the
   * hub): `counted` identifiers are never given twice.
   */
  reserveId(): number {
    return this.#allocateId('')
  }

  /** Removes a subscription; a reused identifier it leaves unused is free again once {@link retire}d. */
  delete(subscription: BrokerSubscription): void {
    if (this.#byFilter.get(subscription.filter) !== subscription) return
    const byId = this.#byId
    const id = subscription.id
    this.#byFilter.delete(subscription.filter)
    if (!Array.isArray(byId)) {
      byId.delete(id)
    } else {
      // A shared identifier left with no filter is no longer joined: the next one without wildcards opens another.
      const entry = byId[id]
      const left = typeof entry === 'number' ? entry - 1 : 0
      byId[id] = left || undefined
      if (!left) this.#retiring.set(id, subscription)
    }
    this.#trie?.remove(subscription.match, subscription)
  }

  /**
   * The broker will send nothing more for `subscription` (its UNSUBACK came: the messages it sent before are read
   * already): an identifier its release left unused may be given again. Without it: every such identifier (a new
   * clean session has no subscriptions, and the last connection's messages are behind it).
   */
  retire(subscription?: BrokerSubscription): void {
    if (!subscription) {
      this.#free.push(...this.#retiring.keys())
      this.#retiring.clear()
    } else if (this.#retiring.get(subscription.id) === subscription) {
      this.#retiring.delete(subscription.id)
      this.#free.push(subscription.id)
    }
  }

  /**
   * The subscription a copy carrying identifier `id` is for: the one given it, or, for an identifier shared by
   * filters without wildcards, the one whose filter is the copy's `topic`.
   */
  byIdentifier(id: number, topic?: string): BrokerSubscription | undefined {
    const byId = this.#byId
    if (!Array.isArray(byId)) return byId.get(id)
    const entry = byId[id]
    if (typeof entry !== 'number') return entry
    const subscription = topic === undefined ? undefined : this.#byFilter.get(topic)
    return subscription?.id === id ? subscription : undefined
  }

  /**
   * Identifiers derived from the filter (a persistent session): a copy carrying one this instance never gave may
   * be an earlier instance's (a resumed session's queued message), and is routed by topic. Elsewhere every
   * identifier is this registry's, and a copy no subscription has (one released before its UNSUBACK came) is for
   * no one.
   */
  get stable(): boolean {
    return this.#scheme === 'stable'
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

  /** A filter without wildcards joins the shared identifier with room, or opens a new one. */
  #shareId(byId: (BrokerSubscription | number | undefined)[]): number {
    const members = byId[this.#sharedId]
    if (typeof members === 'number' && members < FILTERS_PER_IDENTIFIER) byId[this.#sharedId] = members + 1
    else byId[(this.#sharedId = this.#allocateId(''))] = 1
    return this.#sharedId
  }
}
