// One provider's stores, so that every component under it reading the same filter with the same QoS and
// codec reads one store: one observer of the client, one state, the same value in every component of a
// commit. A store leaves the cache when it goes idle (a failed one as soon as its components are gone), so
// nothing piles up.
import type { MQTTClient } from '../client/api.js'
import type { QoS } from '../message.js'
import type { Status } from '../status.js'
import { type CodecKey, type ExternalStore, type Fold, statusStore, topicStore } from './store.js'
import type { Throttle } from '../bindings/coalesced.js'

export interface StoreCache {
  readonly client: MQTTClient
  /** The store for `kind` (which fold: `latest`, `last:10`) of `filter` at `qos` with `codec`, made on first use. */
  topic<S>(kind: string, filter: string, qos: QoS, codec: CodecKey, fold: () => Fold<S>, throttle?: Throttle): ExternalStore<S>
  status(): ExternalStore<Status>
}

export function storeCache(client: MQTTClient): StoreCache {
  // By kind, QoS and filter, then by codec (a name, or a custom codec by identity).
  const topics = new Map<string, Map<CodecKey, ExternalStore<unknown>>>()
  let status: ExternalStore<Status> | undefined

  const put = (key: string, codec: CodecKey, store: ExternalStore<unknown>) => {
    let byCodec = topics.get(key)
    if (!byCodec) topics.set(key, (byCodec = new Map()))
    if (!byCodec.has(codec)) byCodec.set(codec, store)
  }
  const drop = (key: string, codec: CodecKey, store: ExternalStore<unknown>) => {
    const byCodec = topics.get(key)
    if (byCodec?.get(codec) !== store) return
    byCodec.delete(codec)
    if (byCodec.size === 0) topics.delete(key)
  }

  return {
    client,
    topic<S>(kind: string, filter: string, qos: QoS, codec: CodecKey, fold: () => Fold<S>, throttle?: Throttle): ExternalStore<S> {
      const key = `${kind}\u0000${qos}\u0000${filter}`
      const found = topics.get(key)?.get(codec)
      if (found) return found as ExternalStore<S>
      const store: ExternalStore<S> = topicStore(client, filter, { qos, codec, ...(throttle === undefined ? {} : { throttle }) }, fold(), {
        released: () => drop(key, codec, store),
        reactivated: () => put(key, codec, store),
      })
      put(key, codec, store)
      return store
    },
    status(): ExternalStore<Status> {
      if (status) return status
      const store = statusStore(client, {
        released: () => {
          if (status === store) status = undefined
        },
        reactivated: () => {
          status ??= store
        },
      })
      status = store
      return store
    },
  }
}
