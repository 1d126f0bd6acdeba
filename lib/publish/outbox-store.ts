import { StoreWriteError } from '../errors.js'
import { errorFields, type Log } from '../log/log.js'
import type { Store, StoreChange, StoredMessage, StoredSession } from '../store/store.js'
import type { PendingPublish } from './pending-publish.js'

/**
 * A client's open store: each QoS 1/2 publish's record, written before the publish may be sent, and the changes
 * after it (sent, removed), in the order they are made; closed when the client ends.
 *
 * @example
 * ```ts
 * const { binding, session } = await openStore(fileStore(dir), 'gateway-7', log)
 * binding.record(publish, () => send(publish), (error) => reject(publish, error))
 * ```
 */
export class StoreBinding {
  readonly #store: Store
  readonly #log: Log

  constructor(store: Store, log: Log) {
    this.#store = store
    this.#log = log
  }

  /** Writes `publish`'s record: `durable` once it survives a crash, `failed` when it cannot (a full disk). */
  record(publish: PendingPublish, durable: () => void, failed: (error: StoreWriteError) => void): void {
    publish.recorded = true
    const p = publish
    const payload = typeof p.payload === 'string' ? new TextEncoder().encode(p.payload) : p.payload
    const message: StoredMessage = {
      id: p.id as string,
      topic: p.topic,
      payload,
      qos: p.qos,
      retain: p.retain,
      ...(p.properties === undefined ? {} : { properties: p.properties }),
      ...(p.expiresAt === undefined ? {} : { expiresAt: p.expiresAt }),
      ...(p.collapse ? { collapse: true } : {}),
    }
    this.#store.write({ type: 'add', message }).then(durable, (error: unknown) =>
      failed(error instanceof StoreWriteError ? error : new StoreWriteError(`The store could not record the publish to ${JSON.stringify(p.topic)}: ${(error as Error)?.message}`, { cause: error })),
    )
  }

  /** A change of a recorded message; one that fails is logged (the message goes on, and may be sent again after a restart). */
  change(change: StoreChange): void {
    this.#store.write(change).catch((error: unknown) => this.#log.warn('store-error', errorFields(error), `the store could not record a change: ${(error as Error)?.message}`))
  }

  /** Writes what is pending and lets the store go; never rejects. */
  close(): Promise<void> {
    return this.#store.close().catch(() => undefined)
  }
}

/** Opens `store` for `clientId`: the binding, and what an earlier client left in it. */
export async function openStore(store: Store, clientId: string, log: Log): Promise<{ binding: StoreBinding; session: StoredSession }> {
  const session = await store.open(clientId)
  return { binding: new StoreBinding(store, log), session }
}
