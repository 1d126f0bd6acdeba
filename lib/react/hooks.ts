import { useContext, useMemo, useSyncExternalStore } from 'react'
import type { MQTTClient } from '../client/api.js'
import type { Codec, CodecName } from '../codec.js'
import type { Message, QoS } from '../message.js'
import type { Status } from '../status.js'
import type { StoreCache } from './cache.js'
import { ClientContext } from './provider.js'
import { codecKey, type Fold, lastMessages, latest, statusStore, topicStore } from './store.js'
import type { Throttle } from '../bindings/coalesced.js'

/**
 * Options of {@link useTopic}: the `qos` and `codec` of `client.observe()`. Components that pass the same
 * filter, QoS and codec share one observer; an options object written inline is fine (it is compared by
 * its values, and a custom codec by identity: create it once, outside the component, as `json<T>()` does).
 *
 * @example
 * ```ts
 * const options: TopicOptions<{ celsius: number }> = { qos: 1, codec: 'json' }
 * ```
 */
export interface TopicOptions<T> {
  /** The QoS to subscribe with (default 0). */
  readonly qos?: QoS
  /** How payloads are decoded: `'bytes'` (default), `'text'`, `'json'` or a `Codec<T>`. */
  readonly codec?: CodecName | Codec<T>
  /**
   * How often a topic that runs hot re-renders the component: `'frame'` (default) at most once per animation
   * frame, a number at most once per that many milliseconds, `false` for every message. A message after a
   * quiet spell renders at once; a burst renders its latest state at the end of the frame or interval.
   */
  readonly throttle?: Throttle
}

/**
 * Options of {@link useMessages}: those of {@link useTopic}, and how many messages to keep.
 *
 * @example
 * ```ts
 * const options: MessagesOptions<string> = { codec: 'text', limit: 20 }
 * ```
 */
export interface MessagesOptions<T> extends TopicOptions<T> {
  /** How many of the latest messages to keep, oldest first (default 100). */
  readonly limit?: number
}

const DEFAULT_LIMIT = 100

type AnyOptions = TopicOptions<unknown> & { readonly limit?: number }

/** The client, filter and options of a call in either form: `(client, filter, options)` or `(filter, options)`. */
function resolve(
  hook: string,
  cache: StoreCache | undefined,
  first: MQTTClient | string,
  second: string | AnyOptions | undefined,
  third: AnyOptions | undefined,
): { client: MQTTClient; filter: string; options: AnyOptions } {
  if (typeof first === 'string') {
    if (!cache) throw new Error(`${hook}(filter) needs an <MqttProvider client={client}> above the component, or the client as first argument`)
    return { client: cache.client, filter: first, options: (second as AnyOptions | undefined) ?? {} }
  }
  return { client: first, filter: second as string, options: third ?? {} }
}

/** A store for `kind`: the provider's shared one for its own client, or this component's own. */
function useTopicStore<S>(hook: string, kind: string, args: [MQTTClient | string, (string | AnyOptions)?, AnyOptions?], fold: () => Fold<S>): S {
  const context = useContext(ClientContext)
  const { client, filter, options } = resolve(hook, context, args[0], args[1], args[2])
  const cache = context?.client === client ? context : undefined
  const qos = options.qos ?? 0
  const codec = codecKey(options.codec)
  const throttle = options.throttle ?? 'frame'
  if (throttle !== 'frame' && throttle !== false && !(typeof throttle === 'number' && throttle >= 0)) throw new RangeError(`${hook}(): throttle must be 'frame', a number of milliseconds or false, not ${String(throttle)}`)
  // Keyed by values, not by the options object: an inline `{ codec: 'json' }` is the same store every render.
  const own = useMemo(() => (cache ? undefined : topicStore(client, filter, { qos, codec, throttle }, fold())), [cache, client, filter, qos, codec, throttle, kind])
  const store = own ?? (cache as StoreCache).topic(`${kind}:${String(throttle)}`, filter, qos, codec, fold, throttle)
  return useSyncExternalStore(store.subscribe, store.get, store.initial)
}

/**
 * The latest message on a topic filter, re-rendering the component for each new one: `undefined` until the
 * first. Built on `useSyncExternalStore` over `client.observe(filter, options)`, so the payload is typed by
 * the codec exactly like `observe()`. The broker subscription is made when the component mounts and
 * released (one UNSUBSCRIBE once no one else observes the filter) when it unmounts or the filter changes;
 * re-renders and StrictMode's double effects do not resubscribe. When the client already observes the
 * filter, the first render shows its retained message. A cleared retained value (an empty retained publish)
 * makes it `undefined` again; for a wildcard filter, a clear of the topic of the message shown does (a clear of
 * another topic leaves it). A malformed filter (`InvalidTopicError`) and a
 * refused subscription (`SubscriptionRejectedError`) are thrown during render, for an error boundary.
 *
 * Call it with the client, or with the filter alone under an {@link MqttProvider}.
 *
 * @example
 * ```tsx
 * function KitchenTemp() {
 *   const message = useTopic<{ celsius: number }>('rooms/kitchen/temp', { codec: 'json' })
 *   return <span>{message ? `${message.payload.celsius} °C` : '…'}</span>
 * }
 * ```
 */
export function useTopic(client: MQTTClient, filter: string, options?: TopicOptions<Uint8Array> & { codec?: 'bytes' }): Message<Uint8Array> | undefined
export function useTopic(client: MQTTClient, filter: string, options: TopicOptions<string> & { codec: 'text' }): Message<string> | undefined
export function useTopic<T = unknown>(client: MQTTClient, filter: string, options: TopicOptions<T> & { codec: 'json' }): Message<T> | undefined
export function useTopic<T>(client: MQTTClient, filter: string, options: TopicOptions<T> & { codec: Codec<T> }): Message<T> | undefined
export function useTopic(filter: string, options?: TopicOptions<Uint8Array> & { codec?: 'bytes' }): Message<Uint8Array> | undefined
export function useTopic(filter: string, options: TopicOptions<string> & { codec: 'text' }): Message<string> | undefined
export function useTopic<T = unknown>(filter: string, options: TopicOptions<T> & { codec: 'json' }): Message<T> | undefined
export function useTopic<T>(filter: string, options: TopicOptions<T> & { codec: Codec<T> }): Message<T> | undefined
export function useTopic(first: MQTTClient | string, second?: string | AnyOptions, third?: AnyOptions): Message<unknown> | undefined {
  return useTopicStore('useTopic', 'latest', [first, second, third], () => latest)
}

/**
 * The last `limit` messages on a topic filter (default 100), oldest first, as one immutable array that is
 * replaced for each new message. Otherwise like {@link useTopic}: typed by the codec, one observer per
 * filter, QoS, codec and limit under a provider, and the retained messages on the first render when the
 * client already observes the filter. Cleared retained values (empty payloads) are left out.
 *
 * @example
 * ```tsx
 * function Feed() {
 *   const messages = useMessages('devices/+/events', { codec: 'text', limit: 20 })
 *   return <ul>{messages.map((m, i) => <li key={i}>{m.params[0]}: {m.payload}</li>)}</ul>
 * }
 * ```
 */
export function useMessages(client: MQTTClient, filter: string, options?: MessagesOptions<Uint8Array> & { codec?: 'bytes' }): readonly Message<Uint8Array>[]
export function useMessages(client: MQTTClient, filter: string, options: MessagesOptions<string> & { codec: 'text' }): readonly Message<string>[]
export function useMessages<T = unknown>(client: MQTTClient, filter: string, options: MessagesOptions<T> & { codec: 'json' }): readonly Message<T>[]
export function useMessages<T>(client: MQTTClient, filter: string, options: MessagesOptions<T> & { codec: Codec<T> }): readonly Message<T>[]
export function useMessages(filter: string, options?: MessagesOptions<Uint8Array> & { codec?: 'bytes' }): readonly Message<Uint8Array>[]
export function useMessages(filter: string, options: MessagesOptions<string> & { codec: 'text' }): readonly Message<string>[]
export function useMessages<T = unknown>(filter: string, options: MessagesOptions<T> & { codec: 'json' }): readonly Message<T>[]
export function useMessages<T>(filter: string, options: MessagesOptions<T> & { codec: Codec<T> }): readonly Message<T>[]
export function useMessages(first: MQTTClient | string, second?: string | AnyOptions, third?: AnyOptions): readonly Message<unknown>[] {
  const options = (typeof first === 'string' ? (second as AnyOptions | undefined) : third) ?? {}
  const limit = options.limit ?? DEFAULT_LIMIT
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`useMessages(): limit must be a positive integer, not ${String(limit)}`)
  return useTopicStore('useMessages', `last:${limit}`, [first, second, third], () => lastMessages(limit))
}

/**
 * The client's current connection status (`connecting`, `connected`, `reconnecting` or `closed`), from
 * `client.status$`; the first render already has it. Without an argument, the provider's client.
 *
 * @example
 * ```tsx
 * function Badge() {
 *   const status = useStatus()
 *   return <span className={status.type}>{status.type === 'reconnecting' ? `retry ${status.attempt}` : status.type}</span>
 * }
 * ```
 */
export function useStatus(client?: MQTTClient): Status {
  const context = useContext(ClientContext)
  const target = client ?? context?.client
  if (!target) throw new Error('useStatus() needs a client, or an <MqttProvider client={client}> above the component')
  const cache = context?.client === target ? context : undefined
  const own = useMemo(() => (cache ? undefined : statusStore(target)), [cache, target])
  const store = own ?? (cache as StoreCache).status()
  return useSyncExternalStore(store.subscribe, store.get, store.initial)
}
