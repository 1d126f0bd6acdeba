// The external stores behind the hooks: one per (client, filter, QoS, codec) for useTopic and useMessages,
// one per client for useStatus. They use the public MQTTClient interface only (observe, subscriptions$,
// status$), so any implementation of it works. Nothing here is React: the hooks hand these to
// useSyncExternalStore.
import type { Subscription } from 'rxjs'
import type { MQTTClient } from '../client/api.js'
import type { Codec, CodecName } from '../codec.js'
import type { ClearedMessage, Message, QoS } from '../message.js'
import type { ObserveOptions } from '../options/client-options.js'
import type { Status } from '../status.js'
import { coalesced, type Throttle } from '../bindings/coalesced.js'

/** What useSyncExternalStore needs, plus what the hooks compare to know whether a store still fits. */
export interface ExternalStore<S> {
  readonly subscribe: (listener: () => void) => () => void
  /** The current state; throws the observable's error (a refused subscription) so that render throws it. */
  readonly get: () => S
  /** The state before any message: what a server render shows. */
  readonly initial: () => S
}

/** How a topic store folds messages into its state. */
export interface Fold<S> {
  readonly initial: S
  /** `message` may be a cleared value (the stores observe with `cleared: true`). */
  readonly add: (state: S, message: Message<unknown> | ClearedMessage) => S
  /** Whether two states show the same messages, so that a replay does not re-render for nothing. */
  readonly same: (a: S, b: S) => boolean
}

/** Callbacks a cache of stores gives a store it holds. */
export interface StoreOwner {
  /** The store went idle (no listener for a macrotask) and let go of its subscription. */
  readonly released: () => void
  /** An idle store has a listener again. */
  readonly reactivated: () => void
}

/** A codec as a key: the built-in ones by name (`bytes` for none), custom ones by identity. */
export type CodecKey = CodecName | Codec<unknown>

export function codecKey(codec: CodecName | Codec<unknown> | undefined): CodecKey {
  return codec ?? 'bytes'
}

/**
 * Listener bookkeeping with a deferred release: the last listener leaving releases the store only after a
 * macrotask, so that StrictMode's unmount-and-remount of effects (synchronous, in one commit) and a store
 * handed from one component to another in one commit keep the broker subscription instead of sending
 * UNSUBSCRIBE and SUBSCRIBE. A store nobody subscribes to after it was made (a render that was thrown
 * away) is released the same way. A store that holds nothing worth keeping (`done()`: its observable failed)
 * is released at once, so that a component remounted after an error boundary gets a new one.
 */
function listeners(activate: () => void, release: () => void, done: () => boolean = () => false): { add(listener: () => void): () => void; emit(): void } {
  const current = new Set<() => void>()
  let timer: ReturnType<typeof setTimeout> | undefined
  const schedule = () => {
    timer = setTimeout(() => {
      timer = undefined
      if (current.size === 0) release()
    }, 0)
  }
  schedule()
  return {
    add(listener) {
      current.add(listener)
      if (timer !== undefined) {
        clearTimeout(timer)
        timer = undefined
      }
      if (current.size === 1) activate()
      return () => {
        if (!current.delete(listener) || current.size > 0 || timer !== undefined) return
        if (done()) release()
        else schedule()
      }
    },
    emit() {
      for (const listener of [...current]) listener()
    },
  }
}

/** Same topic, flag and payload bytes: a replayed retained message the store already shows. */
export function sameMessage(a: Message<unknown> | undefined, b: Message<unknown> | undefined): boolean {
  if (a === b) return true
  if (!a || !b || a.topic !== b.topic || a.retain !== b.retain) return false
  if (a.raw === b.raw) return true
  if (a.raw.byteLength !== b.raw.byteLength) return false
  for (let i = 0; i < a.raw.byteLength; i++) if (a.raw[i] !== b.raw[i]) return false
  return true
}

export const latest: Fold<Message<unknown> | undefined> = {
  initial: undefined,
  add: clearedOrLatest,
  same: sameMessage,
}

/** The latest message, or `undefined` once the topic it is on was cleared (a clear of another topic changes nothing). */
export function clearedOrLatest(state: Message<unknown> | undefined, message: Message<unknown> | ClearedMessage): Message<unknown> | undefined {
  return !message.cleared ? message : state?.topic === message.topic ? undefined : state
}

export function lastMessages(limit: number): Fold<readonly Message<unknown>[]> {
  const empty: readonly Message<unknown>[] = Object.freeze([])
  return {
    initial: empty,
    // A cleared value is no message to list.
    add: (state, message) => (message.cleared ? state : state.length >= limit ? [...state.slice(state.length - limit + 1), message] : [...state, message]),
    same: (a, b) => a.length === b.length && a.every((m, i) => sameMessage(m, b[i])),
  }
}

/**
 * Whether `client` already holds a broker subscription to `filter` at `qos` or more: then a new observer
 * costs no packet, and the client replays its retained messages to it at once. Read from `subscriptions$`,
 * which replays the current list synchronously; a client that answers later simply gets no peek.
 */
function alreadyObserved(client: MQTTClient, filter: string, qos: QoS): boolean {
  let held = false
  client.subscriptions$
    .subscribe({
      next: (subscriptions) => {
        const found = subscriptions.find((s) => s.filter === filter)
        held = found !== undefined && found.observers > 0 && found.requestedQos >= qos
      },
      error: () => undefined,
    })
    .unsubscribe()
  return held
}

/**
 * A store of what `client.observe(filter)` delivered, folded by `fold`. It subscribes when its first
 * listener comes and releases the subscription a macrotask after its last listener leaves. Made while the
 * client already observes the filter, it starts from the retained messages the client replays to a new
 * observer (a subscription taken and dropped at once, which sends nothing), so the first render shows them.
 */
export function topicStore<S>(
  client: MQTTClient,
  filter: string,
  options: { qos: QoS; codec: CodecKey; throttle?: Throttle },
  fold: Fold<S>,
  owner?: StoreOwner,
): ExternalStore<S> {
  // observe() throws InvalidTopicError for a malformed filter: during render, for an error boundary.
  const source = client.observe(filter, { qos: options.qos, codec: options.codec, cleared: true } as ObserveOptions<unknown> & { codec: Codec<unknown> })
  // A topic that runs hot re-renders once a frame (or interval), with the latest state; a lone message at once.
  const render = coalesced(options.throttle ?? 'frame', () => bookkeeping.emit())
  let state = fold.initial
  let failure: { error: unknown } | undefined
  let subscription: Subscription | undefined
  let idle = false
  /** The client ended: the last state stays, also for a component mounted again later. */
  let ended = false

  if (alreadyObserved(client, filter, options.qos)) {
    let peeked = fold.initial
    source.subscribe({ next: (message) => (peeked = fold.add(peeked, message)), error: () => undefined }).unsubscribe()
    state = peeked
  }

  const activate = () => {
    if (subscription || failure || ended) return
    if (idle) {
      idle = false
      owner?.reactivated()
    }
    const before = state
    state = fold.initial
    let replaying = true
    const sub = source.subscribe({
      next: (message) => {
        state = fold.add(state, message)
        if (!replaying) render.changed()
      },
      error: (error: unknown) => {
        // observe() on a client that has ended: no failure of the filter (the bindings import no error class).
        if (error instanceof Error && error.name === 'ClientClosedError') {
          ended = true
          subscription = undefined
          return
        }
        // Thrown by get() in the next render; the store stays where it is (a provider's cache) until its
        // components are gone, so that each of them throws it, and is released as soon as they are.
        failure = { error }
        subscription = undefined
        bookkeeping.emit()
      },
      complete: () => {
        ended = true
        subscription = undefined
      },
    })
    replaying = false
    if (!sub.closed) subscription = sub
    else if (ended) {
      state = before
      return
    }
    // The retained messages replayed at once: keep the state already rendered when they are the same.
    if (fold.same(before, state)) state = before
    else bookkeeping.emit()
  }
  const release = () => {
    const sub = subscription
    subscription = undefined
    idle = true
    render.cancel()
    sub?.unsubscribe()
    owner?.released()
  }
  const bookkeeping = listeners(activate, release, () => failure !== undefined)

  return {
    subscribe: (listener) => bookkeeping.add(listener),
    get: () => {
      if (failure) throw failure.error
      return state
    },
    initial: () => fold.initial,
  }
}

/** A store of the client's current status, read from `status$` (which replays it synchronously). */
export function statusStore(client: MQTTClient, owner?: StoreOwner): ExternalStore<Status> {
  let status: Status | undefined
  client.status$.subscribe({ next: (s) => (status = s), error: () => undefined }).unsubscribe()
  // A client whose status$ answers later: `connecting` until it does.
  let current: Status = status ?? { type: 'connecting', url: client.url }
  const first = current
  let subscription: Subscription | undefined
  let idle = false
  const bookkeeping = listeners(
    () => {
      if (subscription) return
      if (idle) {
        idle = false
        owner?.reactivated()
      }
      const sub = client.status$.subscribe({
        next: (s) => {
          if (s === current) return
          current = s
          bookkeeping.emit()
        },
        error: () => undefined,
        complete: () => (subscription = undefined),
      })
      if (!sub.closed) subscription = sub
    },
    () => {
      const sub = subscription
      subscription = undefined
      idle = true
      sub?.unsubscribe()
      owner?.released()
    },
  )
  return { subscribe: (listener) => bookkeeping.add(listener), get: () => current, initial: () => first }
}
