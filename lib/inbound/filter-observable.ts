import { Observable, type Observer, type Subscription } from 'rxjs'
import type { Message } from '../message.js'
import type { ObserverRecord, ObserverSink } from './observer-record.js'

/**
 * What `observe()` returns. An app's `subscribe(callback)` or `subscribe(observer)` gets the observer's own
 * record as its Subscription, where a plain Observable would build a Subscriber chain around it (three times
 * the heap of an idle filter). Operators, and anything that is itself a Subscriber, take RxJS's usual path:
 * the record is the Subscriber's teardown. (RxJS's deprecated `config.useDeprecatedNextContext` and
 * `useDeprecatedSynchronousErrorHandling` apply to that path only.)
 *
 * @example
 * ```ts
 * const subscription = client.observe('rooms/+/temp').subscribe((m) => render(m.payload))
 * subscription.unsubscribe()
 * ```
 */
export class FilterObservable<T> extends Observable<Message<T>> {
  readonly #attach: (sink: ObserverSink<T>) => ObserverRecord<T>

  /** `attach`: makes the record of one subscriber and joins it to its broker subscription. */
  constructor(attach: (sink: ObserverSink<T>) => ObserverRecord<T>) {
    super(attach)
    this.#attach = attach
  }

  override subscribe(
    observerOrNext?: Partial<Observer<Message<T>>> | ((value: Message<T>) => void) | null,
    error?: ((error: unknown) => void) | null,
    complete?: (() => void) | null,
  ): Subscription {
    // A Subscriber (of this rxjs or of another copy, duck-typed as RxJS does) needs the record as its teardown;
    // the deprecated three-callback form takes RxJS's path too.
    if ((observerOrNext && 'add' in observerOrNext) || error || complete) return super.subscribe(observerOrNext as never, error, complete)
    return this.#attach(observerOrNext ?? {})
  }
}
