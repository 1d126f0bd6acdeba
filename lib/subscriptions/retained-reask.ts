import type { FilterObserver } from './broker-subscription.js'

/**
 * A late observer's request for the retained messages of a filter whose cache is incomplete (MQTT 5): the broker is
 * asked to send them again, and they go to the observers waiting for them only, each topic once. The others
 * have had them already, live or when they joined.
 *
 * @example
 * ```ts
 * const reask = new RetainedReask([observer])
 * // SUBACK of the re-ask's first SUBSCRIBE:
 * reask.resending = true
 * if (reask.first(message.topic)) for (const target of reask.targets) target.next(message, subscription, ack)
 * ```
 */
export class RetainedReask {
  /**
   * Between the SUBACK of the SUBSCRIBE that asked (Retain Handling 0) and that of the fence after it (Retain
   * Handling 1): a message with the retain flag is one the broker sends again because it was asked.
   */
  resending = false
  /** Observers that joined while the broker was already sending: their turn comes after it. */
  #later: FilterObserver[] = []
  /** Topics the targets have had a retained message of since they joined: each is delivered once. */
  readonly #seen = new Set<string>()

  constructor(
    /** The observers waiting for the broker's resend. */
    public targets: FilterObserver[],
  ) {}

  /** Another late observer: in this re-ask if the broker has not begun sending, else in the next. */
  join(observer: FilterObserver): void {
    if (this.resending) this.#later.push(observer)
    else this.targets.push(observer)
  }

  /** An observer left: it waits for nothing any more. */
  leave(observer: FilterObserver): void {
    this.targets = this.targets.filter((o) => o !== observer)
    this.#later = this.#later.filter((o) => o !== observer)
  }

  /** Whether `topic` is new to the targets in this re-ask (and counts it as delivered). */
  first(topic: string): boolean {
    if (this.#seen.has(topic)) return false
    this.#seen.add(topic)
    return true
  }

  /** The re-ask is answered: the observers that came during it, if any (they had none of its messages). */
  next(): FilterObserver[] | undefined {
    return this.#later.length > 0 ? this.#later : undefined
  }

  /** The connection was lost before the broker finished: everyone waiting is asked for again from scratch. */
  restart(): void {
    this.targets = [...this.targets, ...this.#later]
    this.#later = []
    this.resending = false
    this.#seen.clear()
  }
}
