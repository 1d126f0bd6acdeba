import { Observable, type Subscriber } from 'rxjs'

/**
 * An rxjs `Subject` (or, with `replay`, a `ReplaySubject(1)`) as the SDK uses one: `next`, `complete`,
 * `observed`, and the stream as `value$`, written over `Observable` alone. A browser app then ships neither
 * Subject nor ReplaySubject (with the rxjs code they bring) for what these few lines do. The
 * semantics are rxjs's:
 * - a value goes to the subscribers there as it is sent: one added while it is handed on does not get it
 *   (but is replayed it, with `replay`), one removed meanwhile is not handed it;
 * - after `complete()`, `next()` does nothing and a new subscriber completes at once (after the latest
 *   value, with `replay`);
 * - with `replay`, the subscriber is added before the latest value is replayed to it, so that a value sent
 *   from within its handler of the replayed one reaches it too.
 *
 * @example
 * ```ts
 * const status = new Broadcast<string>(true)
 * status.next('connecting')
 * status.value$.subscribe((s) => console.log(s)) // 'connecting', at once
 * ```
 */
export class Broadcast<T> {
  readonly value$: Observable<T>
  /** Replaced, never changed in place: a `next()` under way goes on with the subscribers it started with. */
  #observers: readonly Subscriber<T>[] = []
  #stopped = false
  #latest: { readonly value: T } | undefined

  readonly #replay: boolean

  /** @param replay Whether a new subscriber is sent the latest value first, as by `ReplaySubject(1)`. */
  constructor(replay = false) {
    this.#replay = replay
    this.value$ = new Observable<T>((subscriber) => {
      const latest = this.#latest
      if (!this.#stopped) this.#observers = [...this.#observers, subscriber]
      if (latest) subscriber.next(latest.value)
      if (this.#stopped) return subscriber.complete()
      return () => {
        this.#observers = this.#observers.filter((each) => each !== subscriber)
      }
    })
  }

  /** Whether anyone subscribes now. */
  get observed(): boolean {
    return this.#observers.length > 0
  }

  next(value: T): void {
    if (this.#stopped) return
    // Kept before it is handed on: a subscriber added by a handler of this value is replayed this value.
    if (this.#replay) this.#latest = { value }
    for (const observer of this.#observers) observer.next(value)
  }

  complete(): void {
    if (this.#stopped) return
    this.#stopped = true
    const observers = this.#observers
    this.#observers = []
    for (const observer of observers) observer.complete()
  }
}
