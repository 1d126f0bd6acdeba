// Loaded with outbox-restore.ts, by a client with a `store` alone. It imports nothing the main bundle has (the
// errors, the log): a module both loaded at start and by this chunk would go to a chunk of its own, which costs
// an app without a store more than the code it shares.
import type { StoreWriteError } from '../errors.js'
import type { describeThrown } from '../errors/describe-thrown.js'
import type { errorFields, Log } from '../log/log.js'
import type { Store, StoreChange, StoredMessage } from '../store/store.js'
import type { PendingPublish } from './pending-publish.js'

/** What the binding takes from the main bundle rather than importing it (see above). */
export interface BindingKit {
  readonly log: Log
  readonly errorFields: typeof errorFields
  readonly StoreWriteError: typeof StoreWriteError
  readonly describeThrown: typeof describeThrown
}

/**
 * A client's open store: each QoS 1/2 publish's record, written before the publish may be sent, and the changes
 * after it (sent, released, removed, the session's), in the order they are made; closed when the client ends.
 *
 * @example
 * ```ts
 * const binding = new StoreBinding(fileStore(dir), { log, errorFields, StoreWriteError, describeThrown })
 * binding.record(publish, () => send(publish), (error) => reject(publish, error))
 * ```
 */
export class StoreBinding {
  readonly #store: Store
  readonly #kit: BindingKit

  constructor(store: Store, kit: BindingKit) {
    this.#store = store
    this.#kit = kit
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
    const { StoreWriteError, describeThrown } = this.#kit
    this.#write({ type: 'add', message }).then(durable, (error: unknown) =>
      failed(error instanceof StoreWriteError ? error : new StoreWriteError(`The store could not record the publish to ${JSON.stringify(p.topic)}: ${describeThrown(error)}`, { cause: error })),
    )
  }

  /** A change of a recorded message; one that fails is logged (the message goes on, and may be sent again after a restart). */
  change(change: StoreChange): void {
    const { log, errorFields } = this.#kit
    this.#write(change).catch((error: unknown) => log.warn('store-error', errorFields(error), `the store could not record a change: ${this.#kit.describeThrown(error)}`))
  }

  /** The app's store may throw rather than reject, or return no promise: either is a failed write. */
  #write(change: StoreChange): Promise<void> {
    try {
      return Promise.resolve(this.#store.write(change))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Writes what is pending and lets the store go; never rejects. */
  close(): Promise<void> {
    return Promise.resolve()
      .then(() => this.#store.close())
      .catch(() => undefined)
  }
}
