import { Observable, type Subscriber } from 'rxjs'

/**
 * Where a message of the outbox is, as `outbox$` reports it: `queued` (held, and durable in the store when there
 * is one: a message reported `queued` survives a crash), `sent` (on the wire, awaiting its acknowledgement), then
 * one of `acknowledged` (PUBACK or PUBCOMP), `expired` (its `expiry` passed before it was sent), `replaced` (a
 * newer `collapse` message to its topic took its place) or `failed` (refused by the broker, its outcome unknown,
 * or not storable).
 *
 * @example
 * ```ts
 * const done = (state: OutboxState): boolean => state !== 'queued' && state !== 'sent'
 * ```
 */
export type OutboxState = 'queued' | 'sent' | 'acknowledged' | 'expired' | 'replaced' | 'failed'

/**
 * One step of one message on `client.outbox$`: its `id` (the publish's `id` option, or the one generated,
 * kept across a restart with a store), its topic and its new state.
 *
 * @example
 * ```ts
 * client.outbox$.subscribe(({ id, topic, state }) => console.log(`${id} (${topic}): ${state}`))
 * ```
 */
export interface OutboxEvent {
  /** The publish's `id` option, or the one generated for it; the same after a restart with a store. */
  readonly id: string
  /** The message's topic. */
  readonly topic: string
  /** Where the message is now. */
  readonly state: OutboxState
}

/** What the outbox reads of a message it holds. */
export interface OutboxEntry {
  readonly id: string | undefined
  readonly topic: string
  readonly state: 'queued' | 'sent' | 'settled'
  /** Reported `queued`: held (and durable, with a store). */
  readonly durable: boolean
}

/**
 * The QoS 1/2 messages a client holds, by id, and `outbox$`: each new subscriber is first told `queued` (and
 * `sent`, for one on the wire) for every message held, then each step as it happens.
 *
 * @example
 * ```ts
 * const outbox = new OutboxEvents<PendingPublish>()
 * outbox.held.set(publish.id, publish)
 * outbox.emit(publish.id, publish.topic, 'queued')
 * ```
 */
export class OutboxEvents<T extends OutboxEntry> {
  /** Every message not settled, durable or not yet, in the order it was published (or restored). */
  readonly held = new Map<string, T>()
  readonly outbox$: Observable<OutboxEvent>
  #observers: readonly Subscriber<OutboxEvent>[] = []
  #completed = false
  readonly #prefix = Math.random().toString(36).slice(2, 10)
  #count = 0

  constructor() {
    this.outbox$ = new Observable<OutboxEvent>((subscriber) => {
      for (const [id, entry] of this.held) {
        if (!entry.durable) continue
        subscriber.next({ id, topic: entry.topic, state: 'queued' })
        if (entry.state === 'sent') subscriber.next({ id, topic: entry.topic, state: 'sent' })
      }
      if (this.#completed) return subscriber.complete()
      this.#observers = [...this.#observers, subscriber]
      return () => {
        this.#observers = this.#observers.filter((each) => each !== subscriber)
      }
    })
  }

  /** An id no other message of this client has (a random part per client, so not of an earlier run either). */
  nextId(): string {
    this.#count += 1
    return `${this.#prefix}-${this.#count}`
  }

  emit(id: string, topic: string, state: OutboxState): void {
    if (this.#observers.length === 0) return
    const event: OutboxEvent = { id, topic, state }
    for (const observer of this.#observers) observer.next(event)
  }

  complete(): void {
    if (this.#completed) return
    this.#completed = true
    const observers = this.#observers
    this.#observers = []
    for (const observer of observers) observer.complete()
  }
}
