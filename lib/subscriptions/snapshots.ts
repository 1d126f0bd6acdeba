import { Observable } from 'rxjs'
import { Broadcast } from '../rx/broadcast.js'

/**
 * A state as an Observable: each new subscriber gets a snapshot taken as it subscribes, then a new snapshot
 * at most once per microtask after `changed()` (a burst of changes is one emission), and only while someone
 * listens: an app may observe 100,000 filters, each of which is a change.
 *
 * @example
 * ```ts
 * const list = new Snapshots(() => registry.all().map((s) => s.info()))
 * list.observable.subscribe(render)
 * list.changed()
 * ```
 */
export class Snapshots<T> {
  readonly observable: Observable<T>
  readonly #changes = new Broadcast<T>()
  #dirty = false

  readonly #snapshot: () => T

  constructor(snapshot: () => T) {
    this.#snapshot = snapshot
    this.observable = new Observable<T>((subscriber) => {
      subscriber.next(this.#snapshot())
      return this.#changes.value$.subscribe(subscriber)
    })
  }

  changed(): void {
    if (this.#dirty || !this.#changes.observed) return
    this.#dirty = true
    queueMicrotask(() => {
      this.#dirty = false
      // After `finish()`, `next()` does nothing.
      this.#changes.next(this.#snapshot())
    })
  }

  /** Sends `last` and completes. */
  finish(last: T): void {
    this.#changes.next(last)
    this.#changes.complete()
  }
}
