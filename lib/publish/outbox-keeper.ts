import { MessageExpiredError, MessageReplacedError, StoreWriteError } from '../errors.js'
import { describeThrown } from '../errors/describe-thrown.js'
import { errorFields, type Log } from '../log/log.js'
import type { Store, StoreChange } from '../store/store.js'
import { OutboxEvents, type OutboxState } from './outbox.js'
import type { StoreBinding } from './outbox-store.js'
import type { PendingPublish } from './pending-publish.js'

/**
 * The outbox's side of each QoS 1/2 publish, from `publish()` until it settles: its id, what `outbox$` reports
 * of it, the store's records of it (with a `store`: written before it is sent, its packet identifier, its end)
 * and `collapse` (the queued message of each topic a newer one replaces). The publisher tells it each step.
 *
 * @example
 * ```ts
 * const keeper = new OutboxKeeper()
 * keeper.hold(publish, options.id)
 * keeper.settled(publish, undefined) // outbox$: acknowledged
 * ```
 */
export class OutboxKeeper {
  /** The QoS 1/2 messages held, by id, and `outbox$`. */
  readonly events = new OutboxEvents<PendingPublish>()
  /** The `store` option once open; undefined before, and without one. */
  store: StoreBinding | undefined
  /** The client is ending: what settles now stays in the store, for the next client on it. */
  keeping = false
  /** The queued `collapse` publish of each topic. */
  readonly #collapsible = new Map<string, PendingPublish>()
  /** Settles once `open()` has opened the store, or failed to. */
  #opened: Promise<unknown> | undefined
  #closed: Promise<void> | undefined

  /** Opens `store` for `clientId`, with the code that restores what it held (loaded only by a client with a store). */
  async open(store: Store, clientId: string, log: Log) {
    const opening = import('./outbox-restore.js').then(async (restore) => ({ restore, ...(await restore.openOutbox(store, clientId, { log, errorFields, StoreWriteError, describeThrown })) }))
    this.#opened = opening
    const opened = await opening
    this.store = opened.binding
    return opened
  }

  /** Once the store is open (or failed to), writes what is pending and lets it go; never rejects. */
  close(): Promise<void> {
    this.#closed ??= (this.#opened ?? Promise.resolve()).then(() => this.store?.close(), () => undefined)
    return this.#closed
  }

  /** Takes a QoS 1/2 publish in under `id` (generated when absent). */
  hold(publish: PendingPublish, id = this.events.nextId()): void {
    publish.id = id
    this.events.held.set(id, publish)
  }

  /** The queued `collapse` publish of `topic` that a new one to it replaces, if any. */
  replaced(topic: string): PendingPublish | undefined {
    const older = this.#collapsible.get(topic)
    return older?.state === 'queued' ? older : undefined
  }

  /** A publish now queued: the latest `collapse` one of its topic, unless one queued before it is. */
  queuedBehind(publish: PendingPublish): void {
    if (publish.collapse && !this.replaced(publish.topic)) this.#collapsible.set(publish.topic, publish)
  }

  /** Reported `queued`: held, and durable in the store when there is one. */
  queued(publish: PendingPublish): void {
    publish.durable = true
    if (publish.id !== undefined) this.events.emit(publish.id, publish.topic, 'queued')
  }

  /** On the wire: never replaced from now on. */
  sending(publish: PendingPublish): void {
    this.#uncollapse(publish)
    if (publish.id !== undefined) this.events.emit(publish.id, publish.topic, 'sent')
  }

  /** Handed to the link under `packetId`: the store records it. */
  sent(publish: PendingPublish, packetId: number): void {
    if (publish.recorded) this.change({ type: 'sent', id: publish.id as string, packetId })
  }

  /** The publish settled: out of the outbox (and of its store, unless the client is ending), its end reported. */
  settled(publish: PendingPublish, error: Error | undefined): void {
    this.#uncollapse(publish)
    const id = publish.id
    const held = this.events.held
    if (id === undefined || held.get(id) !== publish) return
    held.delete(id)
    if (this.keeping) return
    if (publish.recorded) this.change({ type: 'remove', id })
    if (publish.durable) this.events.emit(id, publish.topic, outboxState(error))
  }

  /**
   * Writes a QoS 1/2 publish's record before it may be sent: once durable it is reported `queued` and `durable`
   * runs (not for one settled meanwhile); `failed` when it cannot be written (a full disk).
   */
  record(publish: PendingPublish, durable: () => void, failed: (error: Error) => void): void {
    this.store?.record(
      publish,
      () => {
        if (publish.state === 'settled') return
        this.queued(publish)
        durable()
      },
      failed,
    )
  }

  /** A change of a recorded message, or of the session, for the store (none without one). */
  change(change: StoreChange): void {
    this.store?.change(change)
  }

  #uncollapse(publish: PendingPublish): void {
    if (publish.collapse && this.#collapsible.get(publish.topic) === publish) this.#collapsible.delete(publish.topic)
  }
}

function outboxState(error: Error | undefined): OutboxState {
  if (!error) return 'acknowledged'
  if (error instanceof MessageExpiredError) return 'expired'
  if (error instanceof MessageReplacedError) return 'replaced'
  return 'failed'
}
