import { coalesced, type Throttle } from '../bindings/coalesced.js'
import { type InjectionKey, type MaybeRefOrGetter, type Ref, getCurrentScope, hasInjectionContext, inject, onScopeDispose, provide, shallowRef, toValue, watch } from 'vue'
import type { Subscription } from 'rxjs'
import type { MQTTClient } from '../client/api.js'
import type { Codec, CodecName } from '../codec.js'
import type { ClearedMessage, Message, QoS } from '../message.js'
import type { ObserveOptions } from '../options/client-options.js'
import type { Status } from '../status.js'

/**
 * The injection key under which {@link provideClient} (or `app.provide`) makes a client available to the
 * composables of the components below.
 *
 * @example
 * ```ts
 * createApp(App).provide(MQTT_CLIENT, connect('wss://broker.example.com/mqtt')).mount('#app')
 * ```
 */
export const MQTT_CLIENT: InjectionKey<MQTTClient> = Symbol('iotpubsub client')

/**
 * Provides `client` to the components below this one (in a component's `setup`), for the composables
 * called without a client. `app.provide(MQTT_CLIENT, client)` does the same for the whole app.
 *
 * @example
 * ```ts
 * // App.vue, <script setup>
 * provideClient(connect('wss://broker.example.com/mqtt', { clientId: 'dash-1' }))
 * ```
 */
export function provideClient(client: MQTTClient): void {
  provide(MQTT_CLIENT, client)
}

/**
 * The provided client (see {@link provideClient}); throws when none is. Call it in `setup`.
 *
 * @example
 * ```ts
 * const client = useClient()
 * const turnOn = () => client.publish('lamps/desk/set', { on: true }, { qos: 1 })
 * ```
 */
export function useClient(): MQTTClient {
  const client = hasInjectionContext() ? inject(MQTT_CLIENT, undefined) : undefined
  if (!client) throw new Error('useClient() needs a client provided with provideClient(client) or app.provide(MQTT_CLIENT, client)')
  return client
}

/**
 * Options of {@link useTopic}: the `qos` and `codec` of `client.observe()`.
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
   * How often a topic that runs hot updates the ref: `'frame'` (default) at most once per animation frame, a
   * number at most once per that many milliseconds, `false` for every message. A message after a quiet spell
   * updates it at once; a burst sets its latest state at the end of the frame or interval.
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

type AnyOptions = TopicOptions<unknown> & { readonly limit?: number }
type Filter = MaybeRefOrGetter<string>

function isClient(value: unknown): value is MQTTClient {
  return typeof value === 'object' && value !== null && typeof (value as MQTTClient).observe === 'function' && 'status$' in value
}

/** The client, filter and options of a call in either form: `(client, filter, options)` or `(filter, options)`. */
function resolve(first: MQTTClient | Filter, second: Filter | AnyOptions | undefined, third: AnyOptions | undefined): { client: MQTTClient; filter: Filter; options: AnyOptions } {
  if (isClient(first)) return { client: first, filter: second as Filter, options: third ?? {} }
  return { client: useClient(), filter: first, options: (second as AnyOptions | undefined) ?? {} }
}

/**
 * Folds what `client.observe()` delivers for the current filter into `state`: observing again (the old
 * filter released first, once) whenever the filter's value changes, and for good when the effect scope
 * that called it ends.
 */
function observeInto<S>(client: MQTTClient, filter: Filter, options: AnyOptions, initial: S, add: (state: S, message: Message<unknown> | ClearedMessage) => S): Readonly<Ref<S>> {
  const state = shallowRef<S>(initial)
  // A refused subscription (SubscriptionRejectedError) goes to Vue's error handling, as an error thrown in a
  // watcher of the component does: onErrorCaptured in a parent, app.config.errorHandler.
  const failure = shallowRef<{ error: unknown }>()
  watch(failure, (failed) => {
    if (failed) throw failed.error
  }, { flush: 'sync' })
  // cleared: an empty retained publish clears the topic's value; `add` decides what that does to the state.
  const observeOptions = { qos: options.qos ?? 0, codec: options.codec ?? 'bytes', cleared: true } as ObserveOptions<unknown> & { codec: Codec<unknown> }
  const throttle = options.throttle ?? 'frame'
  if (throttle !== 'frame' && throttle !== false && !(typeof throttle === 'number' && throttle >= 0)) throw new RangeError(`throttle must be 'frame', a number of milliseconds or false, not ${String(throttle)}`)
  // A watcher stops with its effect scope (a component's unmount, a scope.stop()), and its cleanup runs
  // both then and before each new filter: the subscription ends in both cases.
  watch(
    () => toValue(filter),
    (current, _previous, onCleanup) => {
      let folded = initial
      state.value = initial
      // A topic that runs hot updates the ref once a frame (or interval), with the latest state.
      const update = coalesced(throttle, () => (state.value = folded))
      let replaying = true
      let subscription: Subscription | undefined = client.observe(current, observeOptions).subscribe({
        next: (message) => {
          folded = add(folded, message)
          // The client replays its retained messages at once to an observer of a filter it already observes: all in the ref now.
          if (replaying) state.value = folded
          else update.changed()
        },
        error: (error: unknown) => {
          // observe() on a client that has ended is no failure of the filter: the ref keeps its state.
          if (!(error instanceof Error && error.name === 'ClientClosedError')) failure.value = { error }
        },
      })
      replaying = false
      onCleanup(() => {
        update.cancel()
        subscription?.unsubscribe()
        subscription = undefined
      })
    },
    // immediate: the first subscription is made now, in setup, so the ref already holds what the client
    // replays; a new filter value is taken before the next render (flush 'pre', batched).
    { immediate: true },
  )
  return state
}

/**
 * A ref of the latest message on a topic filter (`undefined` until the first), typed by the codec like
 * `client.observe()`. The filter may be a string, a ref or a getter: when its value changes the old filter
 * is released (one UNSUBSCRIBE if no one else observes it) and the new one observed. The subscription ends
 * with the effect scope that called it (the component's unmount). Without a client, the provided one. A
 * cleared retained value (an empty retained publish) makes it `undefined` again; for a wildcard filter, a clear
 * of the topic of the message shown does (a clear of another topic leaves it).
 *
 * @example
 * ```ts
 * // <script setup lang="ts">
 * const props = defineProps<{ room: string }>()
 * const temp = useTopic<{ celsius: number }>(() => `rooms/${props.room}/temp`, { codec: 'json' })
 * // <template>{{ temp?.payload.celsius ?? '…' }} °C</template>
 * ```
 */
export function useTopic(client: MQTTClient, filter: Filter, options?: TopicOptions<Uint8Array> & { codec?: 'bytes' }): Readonly<Ref<Message<Uint8Array> | undefined>>
export function useTopic(client: MQTTClient, filter: Filter, options: TopicOptions<string> & { codec: 'text' }): Readonly<Ref<Message<string> | undefined>>
export function useTopic<T = unknown>(client: MQTTClient, filter: Filter, options: TopicOptions<T> & { codec: 'json' }): Readonly<Ref<Message<T> | undefined>>
export function useTopic<T>(client: MQTTClient, filter: Filter, options: TopicOptions<T> & { codec: Codec<T> }): Readonly<Ref<Message<T> | undefined>>
export function useTopic(filter: Filter, options?: TopicOptions<Uint8Array> & { codec?: 'bytes' }): Readonly<Ref<Message<Uint8Array> | undefined>>
export function useTopic(filter: Filter, options: TopicOptions<string> & { codec: 'text' }): Readonly<Ref<Message<string> | undefined>>
export function useTopic<T = unknown>(filter: Filter, options: TopicOptions<T> & { codec: 'json' }): Readonly<Ref<Message<T> | undefined>>
export function useTopic<T>(filter: Filter, options: TopicOptions<T> & { codec: Codec<T> }): Readonly<Ref<Message<T> | undefined>>
export function useTopic(first: MQTTClient | Filter, second?: Filter | AnyOptions, third?: AnyOptions): Readonly<Ref<Message<unknown> | undefined>> {
  const { client, filter, options } = resolve(first, second, third)
  return observeInto<Message<unknown> | undefined>(client, filter, options, undefined, (state, message) =>
    !message.cleared ? message : state?.topic === message.topic ? undefined : state,
  )
}

/**
 * A ref of the last `limit` messages on a topic filter (default 100), oldest first, as an immutable array
 * replaced for each new message; cleared retained values (empty payloads) are left out. Otherwise like {@link useTopic}.
 *
 * @example
 * ```ts
 * const events = useMessages('devices/+/events', { codec: 'text', limit: 20 })
 * // <template><li v-for="m in events">{{ m.params[0] }}: {{ m.payload }}</li></template>
 * ```
 */
export function useMessages(client: MQTTClient, filter: Filter, options?: MessagesOptions<Uint8Array> & { codec?: 'bytes' }): Readonly<Ref<readonly Message<Uint8Array>[]>>
export function useMessages(client: MQTTClient, filter: Filter, options: MessagesOptions<string> & { codec: 'text' }): Readonly<Ref<readonly Message<string>[]>>
export function useMessages<T = unknown>(client: MQTTClient, filter: Filter, options: MessagesOptions<T> & { codec: 'json' }): Readonly<Ref<readonly Message<T>[]>>
export function useMessages<T>(client: MQTTClient, filter: Filter, options: MessagesOptions<T> & { codec: Codec<T> }): Readonly<Ref<readonly Message<T>[]>>
export function useMessages(filter: Filter, options?: MessagesOptions<Uint8Array> & { codec?: 'bytes' }): Readonly<Ref<readonly Message<Uint8Array>[]>>
export function useMessages(filter: Filter, options: MessagesOptions<string> & { codec: 'text' }): Readonly<Ref<readonly Message<string>[]>>
export function useMessages<T = unknown>(filter: Filter, options: MessagesOptions<T> & { codec: 'json' }): Readonly<Ref<readonly Message<T>[]>>
export function useMessages<T>(filter: Filter, options: MessagesOptions<T> & { codec: Codec<T> }): Readonly<Ref<readonly Message<T>[]>>
export function useMessages(first: MQTTClient | Filter, second?: Filter | AnyOptions, third?: AnyOptions): Readonly<Ref<readonly Message<unknown>[]>> {
  const { client, filter, options } = resolve(first, second, third)
  const limit = options.limit ?? 100
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`useMessages(): limit must be a positive integer, not ${String(limit)}`)
  const empty: readonly Message<unknown>[] = Object.freeze([])
  return observeInto(client, filter, options, empty, (state, message) =>
    message.cleared ? state : state.length >= limit ? [...state.slice(state.length - limit + 1), message] : [...state, message],
  )
}

/**
 * A ref of the client's current connection status, from `client.status$`; it has the current status at
 * once, and stops following it when the effect scope ends. Without a client, the provided one.
 *
 * @example
 * ```ts
 * const status = useStatus()
 * // <template><span :class="status.type">{{ status.type }}</span></template>
 * ```
 */
export function useStatus(client?: MQTTClient): Readonly<Ref<Status>> {
  const target = client ?? useClient()
  const status = shallowRef<Status>({ type: 'connecting', url: target.url })
  // status$ replays the current status synchronously, so the ref is right before the first render.
  const subscription = target.status$.subscribe({ next: (s) => (status.value = s), error: () => undefined })
  if (getCurrentScope()) onScopeDispose(() => subscription.unsubscribe())
  return status
}
